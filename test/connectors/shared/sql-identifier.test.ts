import { test } from "node:test";
import assert from "node:assert/strict";
import { identifierIssues, parseTableName, quoteIdentifier, quoteTableName, tableNameIssues } from "../../../src/connectors/shared/sql-identifier.js";
import { JunctionError } from "../../../src/core/errors.js";

test("valid identifiers are double-quoted; schema.table is split and quoted", () => {
  assert.equal(quoteIdentifier("user_id"), '"user_id"');
  assert.equal(quoteIdentifier("_x1"), '"_x1"');
  assert.equal(quoteTableName("users"), '"users"');
  assert.equal(quoteTableName("main.users"), '"main"."users"');
  assert.deepEqual(parseTableName("main.users"), { schema: "main", table: "users" });
});

test("anything else is a config error naming the identifier and the rule", () => {
  for (const bad of ["users; drop table x", 'a"b', "1abc", "", "with space", "a-b", "ümlaut", "x--"]) {
    assert.throws(
      () => quoteIdentifier(bad),
      (error: unknown) =>
        error instanceof JunctionError && error.kind === "config" && error.message.includes(JSON.stringify(bad)) && error.message.includes("^[A-Za-z_][A-Za-z0-9_]*$"),
    );
  }
  assert.throws(() => quoteTableName("a.b.c"), /schema\.table/);
  assert.throws(() => quoteTableName("users; drop table x"), (error: unknown) => error instanceof JunctionError && error.kind === "config");
  assert.deepEqual(
    identifierIssues(["ok", "not ok"], ["columns"], "column").map((issue) => issue.path),
    [["columns", 1]],
  );
  assert.equal(tableNameIssues("main.users", ["table"]).length, 0);
});
