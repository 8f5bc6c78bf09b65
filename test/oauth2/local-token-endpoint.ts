import { createServer } from "node:http";
import type { IncomingHttpHeaders, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface RecordedTokenRequest {
  method: string;
  headers: IncomingHttpHeaders;
  body: string;
  form: URLSearchParams;
}

export type TokenAnswer = (request: RecordedTokenRequest, response: ServerResponse, index: number) => void | Promise<void>;

export interface LocalTokenEndpoint {
  url: string;
  requests: RecordedTokenRequest[];
  answer: TokenAnswer;
  close(): Promise<void>;
}

export function json(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(status, { "content-type": "application/json", ...headers });
  response.end(JSON.stringify(body));
}

/** A token endpoint on 127.0.0.1 that records every request and answers with `answer` (replaceable). */
export async function startTokenEndpoint(answer: TokenAnswer): Promise<LocalTokenEndpoint> {
  const endpoint: LocalTokenEndpoint = { url: "", requests: [], answer, close: async () => {} };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const recorded = { method: req.method ?? "", headers: req.headers, body, form: new URLSearchParams(body) };
      const index = endpoint.requests.push(recorded) - 1;
      void Promise.resolve(endpoint.answer(recorded, res, index)).catch(() => res.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  endpoint.url = `http://127.0.0.1:${port}/oauth/token`;
  endpoint.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return endpoint;
}
