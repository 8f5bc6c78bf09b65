import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { describe, it } from "node:test";
import { pino } from "pino";
import { formatEta, formatProgress } from "../../../src/cli/progress/progress-format.js";
import { ProgressRate } from "../../../src/cli/progress/progress-rate.js";
import { ProgressReporter } from "../../../src/cli/progress/progress-reporter.js";
import { StatusLine } from "../../../src/cli/progress/status-line.js";
import type { ProgressSnapshot } from "../../../src/engine/run-progress.js";

function snapshot(read: number, extra: Partial<ProgressSnapshot> = {}): ProgressSnapshot {
  return { integration: "users", runId: "r1", startedAt: 0, counts: { read, written: read, filtered: 0, deadLettered: 0, retried: 0 }, ...extra };
}

class Capture extends Writable {
  text = "";
  columns = 60;
  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

describe("progress", () => {
  it("rate follows a sliding window and the ETA divides what is left by it", () => {
    const rate = new ProgressRate(10_000);
    rate.sample(0, 0);
    assert.equal(rate.perSecond(), undefined, "one sample has no rate");
    rate.sample(1000, 1000);
    assert.equal(rate.perSecond(), 1000);
    assert.equal(rate.etaMs(11_000), 10_000);
    for (let t = 2000; t <= 30_000; t += 1000) rate.sample(t, 1000 + (t - 1000) * 5);
    assert.equal(Math.round(rate.perSecond() as number), 5000, "old slow samples left the window");
    assert.equal(rate.etaMs(undefined), undefined, "no total, no ETA");
  });

  it("a stalled run has no ETA", () => {
    const rate = new ProgressRate();
    rate.sample(0, 50);
    rate.sample(2000, 50);
    assert.equal(rate.perSecond(), 0);
    assert.equal(rate.etaMs(100), undefined);
  });

  it("formats counts with the estimate, percentage, rate and ETA", () => {
    const line = formatProgress(snapshot(120_400, { estimatedCount: 1_000_000 }), { perSecond: 34_512.4, etaMs: 25_000 });
    assert.equal(line, "users: read 120,400 of ~1,000,000 (12%), written 120,400, 34,512 rows/s, ETA 25s");
    assert.equal(formatProgress(snapshot(7), { perSecond: undefined, etaMs: undefined }), "users: read 7, written 7");
    assert.equal(formatEta(61_000), "1m01s");
    assert.equal(formatEta(3_720_000), "1h02m");
  });

  it("the status line is erased before a log line and drawn again after it, cut to the terminal width", () => {
    const out = new Capture();
    const status = new StatusLine(out);
    status.show(["a".repeat(100), "second"]);
    assert.equal(out.text, `${"a".repeat(58)}…\nsecond`);
    out.text = "";
    status.write("log line\n");
    assert.equal(out.text, `\r\x1b[2K\x1b[1A\x1b[2Klog line\n${"a".repeat(58)}…\nsecond`);
    out.text = "";
    status.clear();
    assert.equal(out.text, "\r\x1b[2K\x1b[1A\x1b[2K");
    out.text = "";
    status.write("after\n");
    assert.equal(out.text, "after\n", "nothing to erase once cleared");
  });

  it("on a terminal, runs show after the quiet period with their rate and ETA", () => {
    const out = new Capture();
    out.columns = 200;
    let now = 0;
    let read = 0;
    const reporter = new ProgressReporter({
      runs: () => [snapshot(read, { estimatedCount: 10_000 })],
      output: { kind: "tty", status: new StatusLine(out) },
      now: () => now,
    });
    reporter.tick();
    assert.equal(out.text, "", "quiet during the first second");
    now = 1000;
    read = 1000;
    reporter.tick();
    assert.equal(out.text, "users: read 1,000 of ~10,000 (10%), written 1,000, 1,000 rows/s, ETA 9s");
  });

  it("elsewhere, one log line per run with the figures as fields", () => {
    const out = new Capture();
    const logger = pino({ base: null, timestamp: false }, out);
    let now = 0;
    const reporter = new ProgressReporter({ runs: () => [snapshot(now * 2, { estimatedCount: 100_000 })], output: { kind: "log", logger, everyMs: 10_000 }, now: () => now });
    reporter.tick();
    now = 10_000;
    reporter.tick();
    const lines = out.text.trim().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.equal(lines.length, 1, "nothing before the first interval");
    assert.deepEqual(
      { read: lines[0]?.read, rows_per_second: lines[0]?.rows_per_second, eta_seconds: lines[0]?.eta_seconds, estimated_count: lines[0]?.estimated_count },
      { read: 20_000, rows_per_second: 2000, eta_seconds: 40, estimated_count: 100_000 },
    );
    assert.match(String(lines[0]?.msg), /^progress users: read 20,000 of ~100,000 \(20%\)/);
  });
});
