import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { isRowLevelPostgresError, postgresFailure } from "../../../src/connectors/postgres/postgres-errors.js";
import { byteaToBase64, int8ToNumberOrString, timestampToIso } from "../../../src/connectors/postgres/value-parsers.js";
import { csvLine } from "../../../src/connectors/postgres/copy-csv.js";
import { toPostgresText } from "../../../src/connectors/postgres/row-values.js";

function driverError(code: string, message = "boom"): Error {
  return Object.assign(new Error(message), { code });
}

describe("postgres error kinds", () => {
  test("SQLSTATE and network codes map to transient, permanent, auth and config", () => {
    const cases: Array<[string, string]> = [
      ["ECONNREFUSED", "transient"],
      ["08006", "transient"],
      ["57P01", "transient"],
      ["57P03", "transient"],
      ["40001", "transient"],
      ["40P01", "transient"],
      ["53300", "transient"],
      ["23505", "permanent"],
      ["23502", "permanent"],
      ["22P02", "permanent"],
      ["28P01", "auth"],
      ["28000", "auth"],
      ["42P01", "config"],
      ["42703", "config"],
      ["42501", "config"],
    ];
    for (const [code, kind] of cases) assert.equal(postgresFailure(driverError(code), "write").kind, kind, code);
    assert.equal(postgresFailure(new Error("Connection terminated unexpectedly"), "read").kind, "transient");
    assert.equal(isRowLevelPostgresError(driverError("23505")), true);
    assert.equal(isRowLevelPostgresError(driverError("42P01")), false);
  });
});

describe("postgres value text", () => {
  test("timestamps become ISO with zone; big int8 stays a string; bytea becomes base64", () => {
    assert.equal(timestampToIso("2024-05-01 04:30:00.123456+00"), "2024-05-01T04:30:00.123456Z");
    assert.equal(timestampToIso("2024-05-01 10:00:00+05:30"), "2024-05-01T10:00:00+05:30");
    assert.equal(timestampToIso("2024-05-01 10:00:00-07"), "2024-05-01T10:00:00-07:00");
    assert.equal(timestampToIso("2024-05-01 10:00:00"), "2024-05-01T10:00:00");
    assert.equal(timestampToIso("infinity"), "infinity");
    assert.equal(int8ToNumberOrString("9007199254740991"), 9007199254740991);
    assert.equal(int8ToNumberOrString("9007199254740993"), "9007199254740993");
    assert.equal(byteaToBase64("\\x00ff"), "AP8=");
  });

  test("CSV quotes every value and leaves NULL unquoted; json columns take JSON, bytea columns base64", () => {
    assert.equal(csvLine(["a", null, "", 'say "hi",\nok']), '"a",,"","say ""hi"",\nok"\n');
    assert.equal(toPostgresText("text", "json"), '"text"');
    assert.equal(toPostgresText({ a: 1n }, "json"), '{"a":"1"}');
    assert.equal(toPostgresText("AP8=", "bytea"), "\\x00ff");
    assert.equal(toPostgresText(true, "other"), "true");
    assert.equal(toPostgresText(null, "other"), null);
  });
});
