import assert from "node:assert/strict";
import { join } from "node:path";
import { after, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { loadConfigFromString } from "../../../src/config/index.js";
import { builtinComponents } from "../../../src/engine/components.js";
import { JunctionRuntime } from "../../../src/engine/runtime.js";
import { createLogger } from "../../../src/observability/logger.js";
import { signGithubWebhook } from "../../../src/webhooks/signatures/index.js";
import { tempDir } from "../../support/temp-dir.js";

const dir = tempDir();
after(() => dir.remove());

test("webhooks.listen: the endpoints get their own listener, without the admin routes, even with the admin server off", { timeout: 30_000 }, async () => {
  const loaded = await loadConfigFromString(
    `version: 1
state: "sqlite::memory:"
admin: false
connections:
  out: { type: discard }
webhooks:
  listen: "127.0.0.1:0"
  inbound:
    gh:
      path: /health
      verifier: { type: github, secret: listener-secret }
integrations:
  pushes:
    source: { webhook: gh }
    target: { connection: out }
    sync: { trigger: continuous }
`,
    join(dir.path, "junction.yaml"),
    builtinComponents,
    { env: {} },
  );
  const runtime = await JunctionRuntime.open(loaded, { logger: createLogger({ level: "silent" }), processMetrics: false });
  const running = runtime.run();
  try {
    for (let i = 0; i < 100 && runtime.webhooksUrl === undefined; i++) await sleep(20);
    const base = runtime.webhooksUrl;
    assert.ok(base);
    const body = JSON.stringify({ ref: "refs/heads/main" });
    // A path the admin server would own is free here, since the admin routes are not on this listener.
    const accepted = await fetch(`${base}/health`, { method: "POST", body, headers: { "content-type": "application/json", "x-github-event": "push", ...signGithubWebhook({ body, secret: "listener-secret", deliveryId: "d-1" }) } });
    assert.equal(accepted.status, 200);
    assert.equal(((await accepted.json()) as { status: string }).status, "accepted");
    const metrics = await fetch(`${base}/metrics`);
    assert.equal(metrics.status, 404, "no admin routes on the webhook listener");
    await metrics.arrayBuffer();
  } finally {
    runtime.shutdown("test over");
    await running;
    await runtime.close();
  }
});

test("a path of the admin server is refused for an endpoint hosted there", async () => {
  await assert.rejects(
    loadConfigFromString(
      `version: 1
webhooks:
  inbound:
    gh: { path: /api/hooks, verifier: { type: github, secret: s } }
`,
      join(dir.path, "bad.yaml"),
      builtinComponents,
      { env: {} },
    ),
    /webhooks\.inbound\.gh\.path +path \/api\/hooks belongs to the admin server \(\/api\); choose another, e\.g\. \/webhooks\/gh/,
  );
});
