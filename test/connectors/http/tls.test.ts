// TLS against a local https server whose certificates are made at test time by the openssl
// binary: a private CA, a server certificate for 127.0.0.1, and a client certificate (mutual TLS).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { httpConnector } from "../../../src/connectors/http/index.js";
import type { HttpConnectionConfig, HttpSinkOptions } from "../../../src/connectors/http/schema.js";
import type { Connection } from "../../../src/connectors/types.js";
import { createMessage } from "../../../src/core/message.js";
import type { JunctionError } from "../../../src/core/errors.js";
import { tempDir } from "../../support/temp-dir.js";
import { runtimeContext, sinkContext } from "../connector-context.js";
import { json, startLocalApi } from "./local-api.js";
import type { LocalApi } from "./local-api.js";

function opensslMissing(): string | false {
  try {
    execFileSync("openssl", ["version"], { stdio: "ignore" });
    return false;
  } catch {
    return "the openssl binary is not installed: cannot make test certificates";
  }
}

function makeCertificates(dir: string): void {
  const openssl = (...args: string[]): void => void execFileSync("openssl", args, { cwd: dir, stdio: "ignore" });
  openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "1", "-subj", "/CN=Junction Test CA", "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=keyCertSign,cRLSign");
  for (const [name, extensions] of [
    ["server", "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"],
    ["client", "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n"],
  ] as const) {
    writeFileSync(join(dir, `${name}.ext`), extensions);
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${name}`);
    openssl("x509", "-req", "-in", `${name}.csr`, "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", `${name}.pem`, "-days", "1", "-extfile", `${name}.ext`);
  }
}

describe("http target over TLS", { skip: opensslMissing() }, () => {
  const dir = tempDir("junction-tls-");
  let server: LocalApi;
  let mutual: LocalApi;
  const connections: Connection<never, HttpSinkOptions>[] = [];

  before(async () => {
    makeCertificates(dir.path);
    const read = (file: string): Buffer => readFileSync(join(dir.path, file));
    server = await startLocalApi((_request, response) => json(response, 200, { secure: true }), { key: read("server.key"), cert: read("server.pem") });
    mutual = await startLocalApi((_request, response) => json(response, 200, { mutual: true }), { key: read("server.key"), cert: read("server.pem"), ca: read("ca.pem"), requestCert: true, rejectUnauthorized: true });
  });
  after(async () => {
    for (const connection of connections) await connection.close();
    await server.close();
    await mutual.close();
    dir.remove();
  });

  async function connect(config: HttpConnectionConfig): Promise<Connection<never, HttpSinkOptions>> {
    // Relative file names resolve against the config file's directory.
    const connection = (await httpConnector.connect(config, runtimeContext(dir.path))) as Connection<never, HttpSinkOptions>;
    connections.push(connection);
    return connection;
  }

  async function send(connection: Connection<never, HttpSinkOptions>): Promise<unknown> {
    const sink = (connection.sink as NonNullable<typeof connection.sink>)({}, sinkContext);
    return (await sink.write([createMessage({ payload: { a: 1 } })], new AbortController().signal)).failures[0]?.error;
  }

  test("a server certificate signed by tls.ca is trusted; health does the TLS handshake", async () => {
    const connection = await connect({ base_url: server.url, tls: { ca: "ca.pem" } });
    assert.equal(await send(connection), undefined);
    assert.equal((await connection.health(new AbortController().signal)).status, "healthy");
  });

  test("without the CA the request fails permanently with a TLS error; reject_unauthorized: false accepts it", async () => {
    const untrusted = await connect({ base_url: server.url });
    const error = (await send(untrusted)) as JunctionError;
    assert.equal(error.kind, "permanent");
    assert.match(error.message, /TLS/);
    assert.equal((await untrusted.health(new AbortController().signal)).status, "unhealthy");
    assert.equal(await send(await connect({ base_url: server.url, tls: { reject_unauthorized: false } })), undefined);
  });

  test("mutual TLS: the client certificate opens the door, its absence does not", async () => {
    assert.equal(await send(await connect({ base_url: mutual.url, tls: { ca: "ca.pem", cert: "client.pem", key: "client.key" } })), undefined);
    assert.notEqual(await send(await connect({ base_url: mutual.url, tls: { ca: "ca.pem" }, timeout: { request: "2s" } })), undefined);
  });
});
