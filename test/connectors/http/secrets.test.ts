// Pitfall 10: credentials written literally in the http connection (auth fields are marked
// secret) never reach logs or dead letters, even when the API echoes the URL with the api key.
import assert from "node:assert/strict";
import { join } from "node:path";
import { Writable } from "node:stream";
import { after, test } from "node:test";
import { loadConfigFromString } from "../../../src/config/index.js";
import { builtinComponents } from "../../../src/engine/components.js";
import { JunctionRuntime } from "../../../src/engine/runtime.js";
import { createLogger } from "../../../src/observability/logger.js";
import { tempDir } from "../../support/temp-dir.js";
import { json, startLocalApi } from "./local-api.js";

const API_KEY = "qk_live_5a4b3c2d1e0fEchoed";
const dir = tempDir();
after(() => dir.remove());

test("an api key in the query and the API's echo of it stay out of logs and dead letters", { timeout: 30_000 }, async () => {
  const api = await startLocalApi((request, response) => json(response, request.url.startsWith("/v1/bad") ? 422 : 500, { error: `rejected ${request.url}` }));
  const yaml = `version: 1
state: sqlite:./state.db
admin: false
connections:
  events: { type: generate }
  api:
    type: http
    base_url: ${api.url}/v1
    auth: { type: api_key, in: query, name: key, value: ${API_KEY} }
integrations:
  push:
    source: { connection: events, count: 2, payload: { n: "{{i}}" } }
    target: { connection: api, path: "/{{ n = 1 ? 'bad' : 'flaky' }}" }
    resilience: { retry: { attempts: 2, base_delay: 10ms, max_delay: 20ms } }
`;
  let logs = "";
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logs += chunk.toString();
      done();
    },
  });
  try {
    const loaded = await loadConfigFromString(yaml, join(dir.path, "junction.yaml"), builtinComponents, { env: {} });
    const runtime = await JunctionRuntime.open(loaded, { logger: createLogger({ level: "debug", format: "json", redactor: loaded.redactor, destination }), processMetrics: false });
    try {
      await runtime.run({ once: true });
      const letters = await runtime.state.listDeadLetters();
      assert.equal(letters.length, 2, "a permanent 422 and an exhausted 500");
      const stored = JSON.stringify(letters);
      assert.match(stored, /answered 422/);
      assert.doesNotMatch(stored, new RegExp(API_KEY));
    } finally {
      await runtime.close();
    }
    assert.ok(api.requests.every((request) => request.url.includes(`key=${API_KEY}`)), "the key was sent");
    assert.ok(logs.length > 0);
    assert.doesNotMatch(logs, new RegExp(API_KEY));
  } finally {
    await api.close();
  }
});
