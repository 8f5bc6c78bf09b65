import { configError } from "../core/errors.js";

export interface ListenAddress {
  host: string;
  port: number;
}

const HOST_PORT = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]*)):(\d+)$/;

/**
 * Parses "host:port", "[ipv6]:port", ":port" or "port" (the last two bind the loopback
 * interface; write "0.0.0.0:port" to listen on every interface). Port 0 picks a free port.
 */
export function parseListenAddress(listen: string): ListenAddress {
  const text = listen.trim();
  const match = /^\d+$/.test(text) ? ["", undefined, "", text] : HOST_PORT.exec(text);
  const port = match ? Number(match[3]) : NaN;
  if (!match || !Number.isInteger(port) || port > 65_535) {
    throw configError(
      `admin.listen must look like "127.0.0.1:9464", "0.0.0.0:9464" or "[::1]:9464" (port 0 picks a free port), got ${JSON.stringify(listen)}.`,
      { code: "admin.listen" },
    );
  }
  const host = match[1] ?? match[2] ?? "";
  return { host: host === "" ? "127.0.0.1" : host, port };
}

/** http://host:port, with IPv6 hosts in brackets. */
export function formatHttpUrl(host: string, port: number): string {
  return `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
}
