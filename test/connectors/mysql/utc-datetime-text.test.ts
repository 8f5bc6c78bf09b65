import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { isoToServer } from "../../../src/connectors/mysql/datetime-text.js";
import { utcIsoToServer } from "../../../src/connectors/mysql/utc-datetime-text.js";
import { jsonText, payloadFields, toParam } from "../../../src/connectors/mysql/write-values.js";

describe("UTC ISO → DATETIME text without a Date", () => {
  test("gives what isoToServer gives, or leaves the value to it", () => {
    const cases = [
      "2026-01-01T00:00:00.001Z",
      "2026-01-01T00:00:00Z",
      "2026-01-01 00:00:00.123456789+00:00",
      "2024-02-29T23:59:59.5z",
      "2026-01-01t00:00:00-00:00",
      "2026-01-01T00:00:00+0000",
      "0100-03-01T10:11:12.1234567Z",
      // Left to isoToServer: rolled over or remapped by Date.UTC, another zone, no zone.
      "2023-02-29T00:00:00Z",
      "1900-02-29T00:00:00Z",
      "0050-01-01T00:00:00Z",
      "2026-13-01T00:00:00Z",
      "2026-01-01T24:00:00Z",
      "2026-01-01T00:00:60Z",
      "2026-01-01T00:00:00+01:00",
      "2026-01-01T00:00:00",
    ];
    // And a grid of every month and day edge around leap years.
    for (const year of ["1999", "2000", "2023", "2024", "2100"]) {
      for (let month = 1; month <= 12; month++) {
        for (const day of ["28", "29", "30", "31"]) cases.push(`${year}-${String(month).padStart(2, "0")}-${day}T23:59:59.999999Z`);
      }
    }
    let fast = 0;
    for (const text of cases) {
      const quick = utcIsoToServer(text, "+00:00");
      if (quick === undefined) continue;
      fast++;
      assert.equal(quick, isoToServer(text, "+00:00"), text);
    }
    assert.ok(fast > cases.length / 2);
    assert.equal(utcIsoToServer("2026-01-01T00:00:00Z", "+01:00"), undefined);
    assert.equal(toParam("2026-01-01T00:00:00.5Z", "at", "datetime", "+00:00"), "2026-01-01 00:00:00.5");
  });

  test("payloadFields keeps payload order, leaves out undefined values and checks names", () => {
    assert.deepEqual(payloadFields({ id: 1, gone: undefined, name: "x" }, undefined), { ok: true, columns: ["id", "name"], values: [1, "x"] });
    assert.deepEqual(payloadFields({ id: 1, name: "x", other: 2 }, new Set(["id", "other"])), { ok: true, columns: ["id", "other"], values: [1, 2] });
    const bad = payloadFields({ id: 1, "no good": 2 }, undefined);
    assert.ok(!bad.ok && /"no good"/.test(bad.error.message));
  });

  test("JSON columns take bigints as strings", () => {
    assert.equal(jsonText({ n: 12n }), '{"n":"12"}');
    assert.equal(toParam({ n: 12n, s: "x" }, "doc", "json", "+00:00"), '{"n":"12","s":"x"}');
  });
});
