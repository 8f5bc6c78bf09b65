export interface ListenAddress {
  host: string;
  port: number;
}

const HOST_PORT = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]\s]+)):(\d{1,5})$/;

/** "host:port" or "[ipv6]:port"; undefined when malformed. */
export function parseListenAddress(value: string): ListenAddress | undefined {
  const match = HOST_PORT.exec(value.trim());
  if (!match) return undefined;
  const port = Number(match[3]);
  if (port > 65_535) return undefined;
  return { host: (match[1] ?? match[2]) as string, port };
}

export function formatUrlHost(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}
