import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { JunctionError } from "../../src/core/errors.js";
import { REDACTED, SecretRedactor } from "../../src/core/redact.js";
import { createLogger, flushLogger, redactLine } from "../../src/observability/logger.js";
import { CaptureStream } from "./capture-stream.js";

const SECRET = "s3cr3t-Pa55word";

function setup(format: "json" | "pretty" | "auto" = "json", extraSecrets: string[] = []) {
  const redactor = new SecretRedactor();
  redactor.add(SECRET);
  for (const secret of extraSecrets) redactor.add(secret);
  const out = new CaptureStream();
  const logger = createLogger({ level: "debug", format, redactor, destination: out });
  return { out, logger, redactor };
}

describe("createLogger", () => {
  test("writes JSON lines with an ISO time, the level as a label and the name", () => {
    const out = new CaptureStream();
    const logger = createLogger({ destination: out, name: "junction-test" });
    logger.info({ rows: 3 }, "synced");
    const [line] = out.jsonLines();
    assert.ok(line);
    assert.equal(line.level, "info");
    assert.equal(line.msg, "synced");
    assert.equal(line.rows, 3);
    assert.equal(line.name, "junction-test");
    assert.match(String(line.time), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  });

  test("respects the level and rejects unknown levels", () => {
    const out = new CaptureStream();
    const logger = createLogger({ destination: out, level: "warn" });
    logger.info("hidden");
    logger.warn("shown");
    assert.deepEqual(
      out.jsonLines().map((line) => line.msg),
      ["shown"],
    );
    assert.throws(() => createLogger({ destination: out, level: "verbose" }), (error: unknown) => {
      assert.ok(error instanceof JunctionError);
      assert.equal(error.kind, "config");
      return true;
    });
  });

  test("binds correlation_id on child loggers", () => {
    const { out, logger } = setup();
    logger.child({ correlation_id: "corr-123" }).info("handled");
    assert.equal(out.jsonLines()[0]?.correlation_id, "corr-123");
  });

  test("redacts a known secret in the message, bound fields, nested objects and errors", () => {
    const { out, logger } = setup();
    logger.info(`connecting with ${SECRET}`);
    logger.child({ dsn: `postgres://app:${SECRET}@db/app` }).info("bound");
    logger.info({ connection: { options: { list: [`x${SECRET}y`] } } }, "nested");
    const error = new Error(`login failed for ${SECRET}`);
    logger.error({ err: error }, "failed");
    logger.error(new JunctionError(`token ${SECRET} rejected`, { kind: "auth", code: "http.unauthorized" }));

    assert.ok(!out.text.includes(SECRET), out.text);
    const lines = out.jsonLines();
    assert.equal(lines.length, 5);
    assert.equal(lines[0]?.msg, `connecting with ${REDACTED}`);
    assert.equal(lines[1]?.dsn, `postgres://app:${REDACTED}@db/app`);
    assert.deepEqual(lines[2]?.connection, { options: { list: [`x${REDACTED}y`] } });
    const err = lines[3]?.err as Record<string, unknown>;
    assert.equal(err.message, `login failed for ${REDACTED}`);
    assert.match(String(err.stack), /login failed for \[redacted\]/);
    const junctionErr = lines[4]?.err as Record<string, unknown>;
    assert.equal(junctionErr.kind, "auth");
    assert.equal(junctionErr.code, "http.unauthorized");
    assert.equal(lines[4]?.msg, `token ${REDACTED} rejected`);
  });

  test("redacts secrets that JSON escapes and keeps every line valid JSON", () => {
    const quoted = 'pa"ss\\word';
    const { out, logger } = setup("json", [quoted, "4242"]);
    logger.info({ value: `before ${quoted} after`, count: 42424 }, "escaped");
    assert.ok(!out.text.includes('pa\\"ss\\\\word'), out.text);
    const [line] = out.jsonLines();
    assert.equal(line?.value, `before ${REDACTED} after`);
    assert.equal(line?.count, 42424);
  });

  test("redacts well-known secret keys even when the redactor does not know the value", () => {
    const out = new CaptureStream();
    const logger = createLogger({ destination: out });
    logger.info(
      { password: "hunter2", request: { headers: { authorization: "Bearer abc.def" }, api_key: "k-1" }, headers: { authorization: "Basic x" } },
      "keys",
    );
    const [line] = out.jsonLines();
    assert.equal(line?.password, REDACTED);
    assert.deepEqual(line?.headers, { authorization: REDACTED });
    const request = line?.request as { headers: Record<string, unknown>; api_key: unknown };
    assert.equal(request.api_key, REDACTED);
    assert.ok(!out.text.includes("hunter2") && !out.text.includes("abc.def") && !out.text.includes("Basic x"));
  });

  test("pretty output is human-readable and redacted too", async () => {
    const { out, logger } = setup("pretty");
    logger.child({ correlation_id: "corr-9", dsn: `redis://:${SECRET}@cache` }).info(`hello ${SECRET}`);
    logger.error({ err: new Error(`boom ${SECRET}`) }, "failed");
    await flushLogger(logger);
    assert.ok(!out.text.includes(SECRET), out.text);
    assert.match(out.text, /INFO.*: hello \[redacted\]/);
    assert.match(out.text, /corr-9/);
    assert.match(out.text, /boom \[redacted\]/);
    assert.throws(() => JSON.parse(out.text.split("\n")[0] ?? ""));
  });

  test("auto picks pretty on a TTY and JSON otherwise", () => {
    const tty = new CaptureStream();
    tty.isTTY = true;
    createLogger({ destination: tty, format: "auto" }).info("on tty");
    assert.match(tty.text, /on tty/);
    assert.throws(() => JSON.parse(tty.text));

    const pipe = new CaptureStream();
    createLogger({ destination: pipe, format: "auto" }).info("on pipe");
    assert.equal(pipe.jsonLines()[0]?.msg, "on pipe");
  });

  test("flushLogger resolves for stream and default destinations", async () => {
    const { logger } = setup();
    await flushLogger(logger);
    await flushLogger(createLogger({ level: "silent" }));
  });
});

describe("redactLine", () => {
  test("leaves lines without secrets untouched", () => {
    const redactor = new SecretRedactor();
    redactor.add(SECRET);
    const line = '{"msg":"plain \\"quoted\\" text"}\n';
    assert.equal(redactLine(line, redactor), line);
  });

  test("falls back to text replacement when a line is not JSON", () => {
    const redactor = new SecretRedactor();
    redactor.add(SECRET);
    assert.equal(redactLine(`not json ${SECRET}`, redactor), `not json ${REDACTED}`);
  });
});
