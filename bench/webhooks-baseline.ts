// The hand-written baseline of bench/webhooks.ts: what a careful engineer writes with fastify
// and the official `standardwebhooks` package — raw-body parser, verification over the bytes,
// then an INSERT keyed by the webhook id (a repeated id is ignored), 200 after the commit.
// Prints "listening <port>" on stdout once ready.
//   node --import tsx bench/webhooks-baseline.ts <postgres|sqlite> <url or file> <whsec secret>
import Fastify from "fastify";
import pg from "pg";
import { Webhook } from "standardwebhooks";
import { openSqlite } from "../src/state/sqlite/sqlite-driver.js";

const [store, location, secret] = process.argv.slice(2) as [string, string, string];
const webhook = new Webhook(secret);

type Insert = (id: string, type: string | null, headers: string, body: string) => Promise<boolean>;

function postgresInsert(url: string): Insert {
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  return async (id, type, headers, body) => {
    const result = await pool.query("INSERT INTO bench_baseline_events (id, type, headers, body, received_at) VALUES ($1, $2, $3::json, $4, now()) ON CONFLICT (id) DO NOTHING", [id, type, headers, body]);
    return (result.rowCount ?? 0) > 0;
  };
}

function sqliteInsert(file: string): Insert {
  const db = openSqlite(file, { busyTimeoutMs: 5000 });
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  const insert = db.prepare("INSERT INTO bench_baseline_events (id, type, headers, body, received_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING");
  return async (id, type, headers, body) => insert.run(id, type, headers, body, Date.now()).changes > 0;
}

const insert = store === "postgres" ? postgresInsert(location) : sqliteInsert(location);
const app = Fastify({ logger: false });
app.removeAllContentTypeParsers();
app.addContentTypeParser("*", { parseAs: "buffer", bodyLimit: 1024 * 1024 }, (_request, body, done) => done(null, body));
app.post("/webhooks/bench", async (request, reply) => {
  const raw = request.body as Buffer;
  const text = raw.toString("utf8");
  let payload: { type?: unknown };
  try {
    payload = webhook.verify(text, request.headers as Record<string, string>) as { type?: unknown };
  } catch (error) {
    return reply.code(401).send({ error: (error as Error).message });
  }
  const id = request.headers["webhook-id"] as string;
  const fresh = await insert(id, typeof payload.type === "string" ? payload.type : null, JSON.stringify(request.headers), text);
  return reply.code(200).send({ status: fresh ? "accepted" : "duplicate", id });
});
const address = await app.listen({ host: "127.0.0.1", port: 0 });
process.stdout.write(`listening ${new URL(address).port}\n`);
process.on("SIGTERM", () => void app.close().then(() => process.exit(0)));
