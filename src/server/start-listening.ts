import type { AddressInfo } from "node:net";
import type { FastifyInstance } from "fastify";
import { JunctionError, errorMessage } from "../core/errors.js";
import { formatHttpUrl, parseListenAddress } from "./listen-address.js";

export interface ListeningServer {
  /** Base URL with the port actually bound, e.g. "http://127.0.0.1:9464". */
  url: string;
  app: FastifyInstance;
  /** Closes once, however often it is called. */
  close(): Promise<void>;
}

/**
 * Registers `routes` (fastify takes no routes once it listens) and listens on `listen`; a
 * failure closes the app and says what to change in the config key `setting` (e.g. "admin.listen").
 */
export async function startListening(app: FastifyInstance, listen: string, setting: string, what: string, routes?: (app: FastifyInstance) => void | Promise<void>): Promise<ListeningServer> {
  const address = parseListenAddress(listen);
  try {
    await routes?.(app);
    await app.listen({ host: address.host, port: address.port });
  } catch (error) {
    await app.close();
    const code = (error as { code?: unknown } | null)?.code;
    const hint =
      code === "EADDRINUSE"
        ? `Another process is using that port: stop it or set ${setting} to another port.`
        : code === "EACCES"
          ? `Ports below 1024 need extra privileges: choose a port above 1024 in ${setting}.`
          : `Check ${setting} in the config.`;
    throw new JunctionError(`The ${what} could not listen on ${listen}: ${errorMessage(error)}. ${hint}`, {
      kind: "config",
      code: `${setting.split(".")[0]}.listen_failed`,
      cause: error,
    });
  }
  const bound = app.server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    url: formatHttpUrl(bound.address, bound.port),
    app,
    close() {
      closing ??= app.close();
      return closing;
    },
  };
}
