import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { parseSince } from "../../src/cli/since-option.js";
import { CliError } from "../../src/cli/cli-error.js";
import { SqliteStateStore } from "../../src/state/sqlite/sqlite-state-store.js";
import type { DeliveryAttempt, WebhookDelivery, WebhookEndpointState } from "../../src/state/types.js";
import { runCli } from "../support/cli.js";
import { tempDir } from "../support/temp-dir.js";

const dir = tempDir();
after(() => dir.remove());

interface Seeded {
  file: string;
  state: string[];
  /** Delivery ids by message id. */
  ids: Record<string, string>;
}

let seeds = 0;

/**
 * A state file with deliveries of outbound "orders": to endpoint "crm" m1 failed (HTTP 500),
 * m2 delivered after a timeout and a 200, m3 pending and never tried, and m-old failed two
 * days ago; to endpoint "erp" m4 failed with a 410 and that endpoint disabled.
 */
async function seed(): Promise<Seeded> {
  const file = join(dir.path, `state-${++seeds}.db`);
  const store = new SqliteStateStore(file);
  try {
    await store.migrate();
    const deliveries = store.webhookDeliveries;
    const twoDaysAgo = new Date(Date.now() - 2 * 86_400_000);
    const event = (endpoint: string, messageId: string, createdAt = new Date()) => ({
      outbound: "orders",
      endpoint,
      messageId,
      eventId: `msg_${messageId}`,
      eventType: "order.created",
      body: `{"id":"${messageId}"}`,
      createdAt,
    });
    await deliveries.enqueue([event("crm", "m-old", twoDaysAgo), event("crm", "m1"), event("crm", "m2"), event("erp", "m4")]);
    const claimed = new Map((await deliveries.claimDue(100, 60_000)).map((delivery) => [delivery.messageId, delivery]));
    const attempt = (messageId: string, number: number, fields: { status?: number; responseBody?: string; error?: string; latencyMs?: number }) => ({
      deliveryId: claimed.get(messageId)?.id ?? "",
      attempt: number,
      startedAt: new Date(),
      latencyMs: fields.latencyMs ?? 87,
      ...fields,
    });
    await deliveries.recordAttempt(attempt("m-old", 1, { status: 503 }), { status: "failed" });
    await deliveries.recordAttempt(attempt("m1", 1, { status: 500, responseBody: `internal\nerror ${"x".repeat(300)}` }), { status: "failed" });
    await deliveries.recordAttempt(attempt("m2", 1, { error: "timed out after 30s", latencyMs: 30_000 }), { status: "pending", nextAttemptAt: new Date() });
    await deliveries.recordAttempt(attempt("m2", 2, { status: 200, responseBody: "ok" }), { status: "delivered" });
    await deliveries.recordAttempt(attempt("m4", 1, { status: 410, responseBody: "gone" }), { status: "failed" });
    await deliveries.setEndpoint({ outbound: "orders", endpoint: "erp", disabled: true, disabledAt: new Date(), disabledReason: "HTTP 410 Gone", failingSince: new Date() });
    await deliveries.enqueue([event("crm", "m3")]);
    const ids = Object.fromEntries((await deliveries.list()).map((delivery) => [delivery.messageId, delivery.id]));
    return { file, state: ["--state", `sqlite:${file}`], ids };
  } finally {
    await store.close();
  }
}

async function inspect<T>(file: string, read: (store: SqliteStateStore) => Promise<T>): Promise<T> {
  const store = new SqliteStateStore(file);
  try {
    return await read(store);
  } finally {
    await store.close();
  }
}

/** Shared by the tests that only read; the ones that change state seed their own file. */
let seeded: Seeded;
before(async () => {
  seeded = await seed();
});

describe("junction webhooks", () => {
  test("--help lists the subcommands; a subcommand's --help shows its arguments and options", async () => {
    const help = await runCli(["webhooks", "--help"]);
    assert.equal(help.code, 0);
    for (const command of ["deliveries", "attempts", "resend", "recover", "enable"]) assert.match(help.stdout, new RegExp(`\\b${command}\\b`));
    const sub = await runCli(["webhooks", "recover", "--help"]);
    assert.equal(sub.code, 0);
    assert.match(sub.stdout, /Usage: junction webhooks recover \[options\] <outbound> <endpoint>/);
    assert.match(sub.stdout, /--state <url>/);
    assert.match(sub.stdout, /--enable/);
    assert.match((await runCli(["--help"])).stdout, /\bwebhooks\b/);
  });

  test("deliveries lists newest first, marks a disabled endpoint's pending ones, and filters", async () => {
    const { state, ids } = seeded;
    const table = await runCli(["webhooks", "deliveries", ...state]);
    assert.equal(table.code, 0, table.stderr);
    const lines = table.stdout.trim().split("\n");
    assert.match(lines[0] ?? "", /^ID\s+OUTBOUND\s+ENDPOINT\s+EVENT\s+STATUS\s+ATTEMPTS\s+CREATED\s+NEXT ATTEMPT\s+LAST RESULT$/);
    assert.deepEqual(
      lines.slice(1).map((line) => line.split(/\s+/)[0]),
      [ids.m3, ids.m4, ids.m2, ids.m1, ids["m-old"]],
    );
    assert.match(table.stdout, new RegExp(`${ids.m1}\\s+orders\\s+crm\\s+order\\.created\\s+failed\\s+1\\s.*HTTP 500`));
    assert.match(table.stdout, new RegExp(`${ids.m2}\\s+orders\\s+crm\\s+order\\.created\\s+delivered\\s+2\\s.*HTTP 200`));
    assert.match(table.stdout, new RegExp(`${ids.m3}\\s+orders\\s+crm\\s+order\\.created\\s+pending\\s+0\\s`));

    const json = async (...args: string[]): Promise<WebhookDelivery[]> => {
      const result = await runCli(["webhooks", "deliveries", ...state, "--json", ...args]);
      assert.equal(result.code, 0, result.stderr);
      return JSON.parse(result.stdout) as WebhookDelivery[];
    };
    const messages = (list: WebhookDelivery[]): string[] => list.map((delivery) => delivery.messageId);
    assert.deepEqual(messages(await json("--status", "failed")), ["m4", "m1", "m-old"]);
    assert.deepEqual(messages(await json("--status", "failed", "--since", "1d")), ["m4", "m1"]);
    assert.deepEqual(messages(await json("--endpoint", "erp")), ["m4"]);
    assert.deepEqual(messages(await json("--outbound", "other")), []);
    assert.deepEqual(messages(await json("--since", new Date(Date.now() + 3_600_000).toISOString())), []);
    const [newest] = await json("--limit", "1");
    assert.equal(newest?.messageId, "m3");
    assert.equal(newest?.body, '{"id":"m3"}');
    assert.equal(newest?.eventId, "msg_m3");

    const none = await runCli(["webhooks", "deliveries", ...state, "--outbound", "other"]);
    assert.equal(none.stdout, "no webhook deliveries\n");
  });

  test("a pending delivery of a disabled endpoint says so", async () => {
    const { file, state, ids } = await seed();
    await inspect(file, async (store) => {
      await store.webhookDeliveries.enqueue([
        { outbound: "orders", endpoint: "erp", messageId: "m5", eventId: "msg_m5", eventType: "order.paid", body: "{}", createdAt: new Date() },
      ]);
    });
    const result = await runCli(["webhooks", "deliveries", ...state, "--endpoint", "erp"]);
    assert.match(result.stdout, /order\.paid\s+pending \(endpoint disabled\)\s+0/);
    assert.match(result.stdout, new RegExp(`${ids.m4}\\s+orders\\s+erp\\s+order\\.created\\s+failed\\s`), "only pending ones are marked");
  });

  test("bad --status, --since and --limit are usage errors that name what is accepted", async () => {
    const { state } = seeded;
    const status = await runCli(["webhooks", "deliveries", ...state, "--status", "done"]);
    assert.equal(status.code, 2);
    assert.match(status.stderr, /--status must be pending, delivered, failed, all; got "done"/);
    const since = await runCli(["webhooks", "deliveries", ...state, "--since", "yesterday"]);
    assert.equal(since.code, 2);
    assert.match(since.stderr, /--since must be a duration ago such as "30m", "2h", "7d" or "1w", or an ISO time such as 2026-01-31/);
    assert.doesNotMatch(since.stderr, /\n\s+at /, "no stack trace");
    const limit = await runCli(["webhooks", "deliveries", ...state, "--limit", "0"]);
    assert.equal(limit.code, 2);
  });

  test("attempts prints the attempt log; --json gives the attempts; an unknown id exits 1", async () => {
    const { state, ids } = seeded;
    const table = await runCli(["webhooks", "attempts", ids.m2 ?? "", ...state]);
    assert.equal(table.code, 0, table.stderr);
    const lines = table.stdout.trim().split("\n");
    assert.match(lines[0] ?? "", new RegExp(`^delivery ${ids.m2}\\s+orders/crm\\s+order\\.created\\s+webhook-id msg_m2\\s+delivered, delivered `));
    assert.match(lines[1] ?? "", /^ATTEMPT\s+STARTED\s+STATUS\s+LATENCY\s+RESPONSE \/ ERROR$/);
    assert.match(lines[2] ?? "", /^1\s+\S+ \S+Z\s+-\s+30000ms\s+timed out after 30s$/);
    assert.match(lines[3] ?? "", /^2\s+\S+ \S+Z\s+200\s+87ms\s+ok$/);

    const failed = await runCli(["webhooks", "attempts", ids.m1 ?? "", ...state]);
    const row = failed.stdout.trim().split("\n")[2] ?? "";
    assert.match(row, /500\s+87ms\s+internal error x+…$/, "the response on one line, truncated");
    assert.ok(row.length < 200);

    const json = await runCli(["webhooks", "attempts", ids.m2 ?? "", ...state, "--json"]);
    const attempts = JSON.parse(json.stdout) as DeliveryAttempt[];
    assert.deepEqual(
      attempts.map((attempt) => [attempt.attempt, attempt.status, attempt.error, attempt.responseBody, attempt.latencyMs]),
      [
        [1, undefined, "timed out after 30s", undefined, 30_000],
        [2, 200, undefined, "ok", 87],
      ],
    );

    const never = await runCli(["webhooks", "attempts", ids.m3 ?? "", ...state]);
    assert.match(never.stdout, /no attempts yet\n$/);

    const unknown = await runCli(["webhooks", "attempts", "no-such-id", ...state]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /no webhook delivery with id "no-such-id"; list them with `junction webhooks deliveries`/);
  });

  test("resend makes a delivery pending and due now, and warns when its endpoint is disabled", async () => {
    const { file, state, ids } = await seed();
    const resent = await runCli(["webhooks", "resend", ids.m1 ?? "", ...state]);
    assert.equal(resent.code, 0, resent.stderr);
    assert.match(resent.stdout, new RegExp(`delivery ${ids.m1} \\(orders/crm, was failed\\) is pending and due now`));
    assert.doesNotMatch(resent.stdout, /disabled/);
    const delivery = await inspect(file, (store) => store.webhookDeliveries.get(ids.m1 ?? ""));
    assert.equal(delivery?.status, "pending");
    assert.ok((delivery?.nextAttemptAt?.getTime() ?? Infinity) <= Date.now());

    const disabled = await runCli(["webhooks", "resend", ids.m4 ?? "", ...state]);
    assert.equal(disabled.code, 0);
    assert.match(disabled.stdout, /endpoint orders\/erp is disabled since \S+ \S+Z \(HTTP 410 Gone\); it is not sent until you run `junction webhooks enable orders erp`/);

    const unknown = await runCli(["webhooks", "resend", "no-such-id", ...state]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /no webhook delivery with id "no-such-id"/);
  });

  test("recover makes the endpoint's failed deliveries since a time pending again", async () => {
    const { file, state, ids } = await seed();
    const missing = await runCli(["webhooks", "recover", "orders", "crm", ...state]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--since/);

    const recent = await runCli(["webhooks", "recover", "orders", "crm", "--since", "1h", ...state]);
    assert.equal(recent.code, 0, recent.stderr);
    assert.match(recent.stdout, /^1 failed delivery of orders\/crm created since \S+ \S+Z is pending again\n$/);
    const statuses = await inspect(file, async (store) =>
      Object.fromEntries(await Promise.all(["m1", "m-old", "m2"].map(async (m) => [m, (await store.webhookDeliveries.get(ids[m] ?? ""))?.status]))),
    );
    assert.deepEqual(statuses, { m1: "pending", "m-old": "failed", m2: "delivered" });

    const iso = await runCli(["webhooks", "recover", "orders", "crm", "--since", new Date(Date.now() - 3 * 86_400_000).toISOString().slice(0, 10), ...state]);
    assert.match(iso.stdout, /^1 failed delivery of orders\/crm/, "the two-day-old one");

    const unknown = await runCli(["webhooks", "recover", "orders", "nope", "--since", "1d", ...state]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /no deliveries recorded for endpoint "nope" of outbound "orders"/);
  });

  test("recover on a disabled endpoint says it stays disabled unless --enable is given", async () => {
    const { file, state, ids } = await seed();
    const kept = await runCli(["webhooks", "recover", "orders", "erp", "--since", "1h", ...state]);
    assert.equal(kept.code, 0, kept.stderr);
    assert.match(kept.stdout, /^1 failed delivery of orders\/erp/);
    assert.match(kept.stdout, /endpoint orders\/erp is disabled since .* \(HTTP 410 Gone\): nothing is sent to it until it is enabled; run again with --enable, or `junction webhooks enable orders erp`/);
    assert.equal((await inspect(file, (store) => store.webhookDeliveries.getEndpoint("orders", "erp")))?.disabled, true);
    assert.equal((await inspect(file, (store) => store.webhookDeliveries.get(ids.m4 ?? "")))?.status, "pending");

    const enabled = await runCli(["webhooks", "recover", "orders", "erp", "--since", "1h", "--enable", ...state]);
    assert.equal(enabled.code, 0, enabled.stderr);
    assert.match(enabled.stdout, /^no failed deliveries of orders\/erp created since /);
    assert.match(enabled.stdout, /endpoint orders\/erp enabled; it was disabled since .* \(HTTP 410 Gone\)/);
    const endpoint = await inspect(file, (store) => store.webhookDeliveries.getEndpoint("orders", "erp"));
    assert.deepEqual(endpoint, { outbound: "orders", endpoint: "erp", disabled: false } satisfies WebhookEndpointState);
  });

  test("enable re-enables a disabled endpoint and clears its failure run; otherwise says there is nothing to do", async () => {
    const { file, state } = await seed();
    const enabled = await runCli(["webhooks", "enable", "orders", "erp", ...state]);
    assert.equal(enabled.code, 0, enabled.stderr);
    assert.match(enabled.stdout, /^endpoint orders\/erp enabled; it was disabled since \S+ \S+Z \(HTTP 410 Gone\)\n$/);
    const endpoint = await inspect(file, (store) => store.webhookDeliveries.getEndpoint("orders", "erp"));
    assert.deepEqual(endpoint, { outbound: "orders", endpoint: "erp", disabled: false });

    const again = await runCli(["webhooks", "enable", "orders", "erp", ...state]);
    assert.equal(again.code, 0);
    assert.match(again.stdout, /endpoint orders\/erp is not disabled; nothing to do/);
    const neverDisabled = await runCli(["webhooks", "enable", "orders", "crm", ...state]);
    assert.equal(neverDisabled.code, 0);
    assert.match(neverDisabled.stdout, /not disabled/);
    const unknown = await runCli(["webhooks", "enable", "shipping", "crm", ...state]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /no deliveries recorded for endpoint "crm" of outbound "shipping"/);
  });

  test("-c reads the state store named in the config file", async () => {
    const { file, ids } = seeded;
    const config = join(dir.path, "junction.yaml");
    writeFileSync(config, `version: 1\nstate: sqlite:${file}\nconnections: {}\nintegrations: {}\n`);
    const result = await runCli(["webhooks", "deliveries", "-c", config, "--status", "delivered", "--json"]);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(
      (JSON.parse(result.stdout) as WebhookDelivery[]).map((delivery) => delivery.id),
      [ids.m2],
    );
  });
});

describe("--since values", () => {
  const now = Date.UTC(2026, 10, 22, 12, 0, 0);

  test("a duration means that long ago", () => {
    assert.equal(parseSince("30m", "--since", now).getTime(), now - 30 * 60_000);
    assert.equal(parseSince("2h", "--since", now).getTime(), now - 2 * 3_600_000);
    assert.equal(parseSince("1.5d", "--since", now).getTime(), now - 1.5 * 86_400_000);
    assert.equal(parseSince(" 1w ", "--since", now).getTime(), now - 7 * 86_400_000);
    assert.equal(parseSince("45s", "--since", now).getTime(), now - 45_000);
  });

  test("an ISO date or time is that instant", () => {
    assert.equal(parseSince("2026-01-31").toISOString(), "2026-01-31T00:00:00.000Z");
    assert.equal(parseSince("2026-01-31T12:30:00Z").toISOString(), "2026-01-31T12:30:00.000Z");
    assert.equal(parseSince("2026-01-31T12:30:00+02:00").toISOString(), "2026-01-31T10:30:00.000Z");
  });

  test("anything else is a usage error naming the accepted forms", () => {
    for (const value of ["", "soon", "10", "2026", "5 minutes", "-1h", "2026-02-30x"]) {
      assert.throws(
        () => parseSince(value),
        (error: unknown) => error instanceof CliError && error.exitCode === 2 && /--since must be a duration ago/.test(error.message),
        value,
      );
    }
  });
});
