import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { ConfigProblemsError, loadConfig } from "../../src/config/index.js";
import { testComponents } from "./test-components.js";

describe("loadConfig", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "junction-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test("loads a file: name from its directory, paths and ${file:} relative to it", async () => {
    await writeFile(join(dir, "token.txt"), "tok-from-file\n");
    const file = join(dir, "junction.yaml");
    await writeFile(file, "version: 1\nconnections:\n  out: { type: printer, api_token: '${file:token.txt}' }\n");
    const loaded = await loadConfig(file, testComponents, { env: {} });
    assert.equal(loaded.config.name, basename(dir));
    assert.equal(loaded.config.baseDir, dir);
    assert.equal(loaded.config.state, `sqlite:${join(dir, ".junction", "state.db")}`);
    assert.equal(loaded.config.connections.out?.options.api_token, "tok-from-file");
    assert.equal(loaded.source.file, file);
    assert.deepEqual(loaded.source.locate(["connections", "out", "api_token"]), { line: 3, col: 36 });
  });

  test("uses process.env when no env is given", async () => {
    const file = join(dir, "env.yaml");
    await writeFile(file, "version: 1\nname: ${JUNCTION_CONFIG_TEST_NAME}\n");
    process.env.JUNCTION_CONFIG_TEST_NAME = "from-env";
    try {
      assert.equal((await loadConfig(file, testComponents)).config.name, "from-env");
    } finally {
      delete process.env.JUNCTION_CONFIG_TEST_NAME;
    }
  });

  test("a missing file is a config problem saying how to create one", async () => {
    await assert.rejects(loadConfig(join(dir, "nope.yaml"), testComponents), (error: unknown) => {
      assert.ok(error instanceof ConfigProblemsError);
      assert.match(error.problems[0]?.message ?? "", /config file not found: create one with "junction init"/);
      return true;
    });
  });
});
