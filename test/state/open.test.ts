import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { JunctionError } from "../../src/core/errors.js";
import { describeStateLocation, openStateStore } from "../../src/state/open.js";
import { parseStateUrl } from "../../src/state/state-url.js";
import { SQLITE_MIGRATIONS } from "../../src/state/sqlite/migrations/index.js";

function isConfigError(pattern: RegExp): (error: unknown) => boolean {
  return (error) => {
    assert.ok(error instanceof JunctionError, `expected a JunctionError, got ${String(error)}`);
    assert.equal(error.kind, "config");
    assert.match(error.message, pattern);
    return true;
  };
}

describe("parseStateUrl", () => {
  test("a relative SQLite path resolves against baseDir, or the working directory", () => {
    assert.deepEqual(parseStateUrl("sqlite:.junction/state.db", { baseDir: "/srv/app" }), {
      kind: "sqlite",
      filename: resolve("/srv/app", ".junction/state.db"),
      location: "sqlite:.junction/state.db",
    });
    const fromCwd = parseStateUrl("sqlite:data/state.db");
    assert.equal(fromCwd.kind === "sqlite" && fromCwd.filename, resolve(process.cwd(), "data/state.db"));
  });

  test("absolute SQLite paths, with one slash or three", () => {
    const plain = parseStateUrl("sqlite:/var/lib/junction/state.db", { baseDir: "/elsewhere" });
    assert.equal(plain.kind === "sqlite" && plain.filename, "/var/lib/junction/state.db");
    const triple = parseStateUrl("sqlite:///var/lib/junction/state.db");
    assert.equal(triple.kind === "sqlite" && triple.filename, "/var/lib/junction/state.db");
  });

  test("sqlite::memory:", () => {
    assert.deepEqual(parseStateUrl("sqlite::memory:"), { kind: "sqlite", filename: ":memory:", location: "sqlite::memory:" });
  });

  test("postgres:// and postgresql:// with and without ?schema=", () => {
    const plain = parseStateUrl("postgres://app@db.internal:5432/junction");
    assert.deepEqual(plain, { kind: "postgres", connectionString: "postgres://app@db.internal:5432/junction", location: "postgres://app@db.internal:5432/junction" });

    const withSchema = parseStateUrl("postgresql://app:pw@db.internal/junction?sslmode=require&schema=integrations");
    assert.equal(withSchema.kind, "postgres");
    if (withSchema.kind !== "postgres") return;
    assert.equal(withSchema.schema, "integrations");
    const handed = new URL(withSchema.connectionString);
    assert.equal(handed.searchParams.has("schema"), false, "schema is not passed to pg");
    assert.equal(handed.searchParams.get("sslmode"), "require");
    assert.equal(handed.password, "pw", "pg still gets the password");
    assert.doesNotMatch(withSchema.location, /pw/);
  });

  test("bad URLs are config errors naming the accepted forms", () => {
    const accepted = /sqlite:\.junction\/state\.db.*sqlite::memory:.*postgres:\/\//;
    for (const url of ["", "   ", "mysql://root@localhost/db", "state.db", "redis://localhost", "sqlite:", "sqlite://host/state.db", "postgres//missing-colon"]) {
      assert.throws(() => parseStateUrl(url), isConfigError(accepted), `"${url}" is rejected`);
    }
  });

  test("a schema that is not a plain identifier is a config error", () => {
    assert.throws(() => parseStateUrl("postgres://app@db/junction?schema=bad;drop"), isConfigError(/schema "bad;drop"/));
    assert.throws(() => parseStateUrl("postgres://app@db/junction?schema=1abc"), isConfigError(/not a plain PostgreSQL identifier/));
    assert.throws(() => parseStateUrl("postgres://app@db/junction?schema=a&schema=b"), isConfigError(/more than once/));
  });

  test("the password never appears in a bad-URL message", () => {
    assert.throws(
      () => parseStateUrl("mysql://root:hunter2@localhost/db"),
      (error: unknown) => error instanceof JunctionError && !error.message.includes("hunter2"),
    );
  });
});

describe("describeStateLocation", () => {
  test("removes the password and keeps the rest", () => {
    assert.equal(describeStateLocation("postgres://app:s3cret@db.internal:5432/junction?schema=x"), "postgres://app@db.internal:5432/junction?schema=x");
    assert.equal(describeStateLocation("postgresql://app:p%40ss%2Fword@db/junction"), "postgresql://app@db/junction");
    assert.equal(describeStateLocation("postgres://app@db/junction"), "postgres://app@db/junction");
  });

  test("removes password query parameters", () => {
    const described = describeStateLocation("postgres://db/junction?user=app&password=s3cret&sslmode=require");
    assert.doesNotMatch(described, /s3cret/);
    assert.match(described, /sslmode=require/);
  });

  test("hides the password of a URL that does not parse", () => {
    const described = describeStateLocation("postgres://app:pa ss/wo@rd@db:notaport/junction");
    assert.doesNotMatch(described, /pa ss|wo@rd|rd@/);
    assert.match(described, /^postgres:\/\/app@/);
  });

  test("leaves SQLite URLs as they are", () => {
    assert.equal(describeStateLocation("sqlite:.junction/state.db"), "sqlite:.junction/state.db");
    assert.equal(describeStateLocation("sqlite::memory:"), "sqlite::memory:");
  });
});

describe("openStateStore (SQLite)", () => {
  let dir = "";
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "junction-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test("opens a relative path under baseDir, creating the directory, and migrates", async () => {
    const store = await openStateStore("sqlite:.junction/state.db", { baseDir: dir });
    try {
      assert.equal(store.kind, "sqlite");
      assert.equal(store.location, "sqlite:.junction/state.db");
      assert.ok(existsSync(join(dir, ".junction", "state.db")));
      assert.deepEqual(await store.appliedMigrations(), SQLITE_MIGRATIONS.map((migration) => migration.version));
      await store.setCheckpoint("opened", 1);
    } finally {
      await store.close();
    }
    const again = await openStateStore(`sqlite:${join(dir, ".junction", "state.db")}`);
    try {
      assert.equal((await again.getCheckpoint("opened"))?.value, 1);
    } finally {
      await again.close();
    }
  });

  test("opens an in-memory store", async () => {
    const store = await openStateStore("sqlite::memory:");
    try {
      assert.deepEqual(await store.appliedMigrations(), SQLITE_MIGRATIONS.map((migration) => migration.version));
    } finally {
      await store.close();
    }
  });

  test("a path that cannot be created is a config error", async () => {
    const blocker = join(dir, "blocker");
    const first = await openStateStore(`sqlite:${blocker}`);
    await first.close();
    await assert.rejects(openStateStore(`sqlite:${join(blocker, "sub", "state.db")}`), isConfigError(/cannot open the SQLite state store/));
  });

  test("a bad URL is rejected before anything is opened", async () => {
    await assert.rejects(openStateStore("mongodb://localhost/db"), isConfigError(/sqlite::memory:/));
  });
});
