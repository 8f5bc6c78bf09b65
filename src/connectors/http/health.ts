import { isIP, connect as netConnect } from "node:net";
import type { Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { errorMessage } from "../../core/errors.js";
import type { HealthResult } from "../types.js";
import type { HttpClient } from "./http-client.js";
import { statusKind } from "./http-errors.js";

/**
 * With a health path: GET it with the connection's headers and auth, 2xx is healthy. Without:
 * open (and close) a TCP connection, with the TLS handshake for https.
 */
export async function checkHealth(client: HttpClient, healthPath: string | undefined, signal: AbortSignal): Promise<HealthResult> {
  const started = performance.now();
  const elapsed = (): number => performance.now() - started;
  try {
    if (healthPath !== undefined) {
      const response = await client.send({ method: "GET", path: healthPath, headers: { accept: "application/json" }, maxBody: 0 }, signal);
      return statusKind(response.status) === undefined
        ? { status: "healthy", latencyMs: elapsed(), detail: `${response.request} answered ${response.status}` }
        : { status: "unhealthy", latencyMs: elapsed(), detail: `${response.request} answered ${response.status}` };
    }
    await openAndClose(client, signal);
    return { status: "healthy", latencyMs: elapsed(), detail: `connected to ${client.baseUrl.host}` };
  } catch (error) {
    return { status: "unhealthy", latencyMs: elapsed(), detail: client.redactor.redact(errorMessage(error)) };
  }
}

function openAndClose(client: HttpClient, signal: AbortSignal): Promise<void> {
  const url = client.baseUrl;
  const secure = url.protocol === "https:";
  const port = Number(url.port || (secure ? 443 : 80));
  const host = url.hostname.replace(/^\[|\]$/g, "");
  return new Promise<void>((resolve, reject) => {
    let socket: Socket;
    let done = false;
    const finish = (error?: Error): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      socket.destroy();
      if (error === undefined) resolve();
      else reject(error);
    };
    const onAbort = (): void => finish(new Error("health check cancelled"));
    const timer = setTimeout(() => finish(new Error(`connecting to ${url.host} timed out after ${client.connectTimeoutMs} ms`)), client.connectTimeoutMs);
    if (secure) {
      const tls = client.tls;
      socket = tlsConnect({
        host,
        port,
        ...(isIP(host) === 0 ? { servername: host } : {}),
        rejectUnauthorized: tls.rejectUnauthorized,
        ...(tls.ca === undefined ? {} : { ca: tls.ca }),
        ...(tls.cert === undefined ? {} : { cert: tls.cert }),
        ...(tls.key === undefined ? {} : { key: tls.key }),
      });
      socket.once("secureConnect", () => finish());
    } else {
      socket = netConnect({ host, port });
      socket.once("connect", () => finish());
    }
    socket.once("error", (error) => finish(error));
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
  });
}
