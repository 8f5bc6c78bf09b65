import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { copyDataMessages, copyTextLine, escapeCopyText } from "../../../src/connectors/postgres/copy-text.js";
import { CopyColumnsChanged, CopyRowParser, CopyTextRowDecoder, copyTextField, copyTextFields, unescapeCopyText } from "../../../src/connectors/postgres/copy-text-rows.js";
import type { CopyColumns } from "../../../src/connectors/postgres/copy-text-rows.js";

const TRICKY = ["plain", "", "tab\there", "new\nline", "cr\rhere", "back\\slash", "\\N", "\\.", "quote \" and ' apostrophe", "émoji 😀 世界", "\\x41 not hex", "\b\f\v"];

/** Decodes `text` fed in pieces cut at `cuts` (byte offsets). */
function decode(columns: CopyColumns, text: string, cuts: number[] = []) {
  const bytes = Buffer.from(text, "utf8");
  const decoder = new CopyTextRowDecoder(columns);
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    decoder.push(bytes.subarray(from, cut));
    from = cut;
  }
  const page = decoder.end();
  const parser = new CopyRowParser(columns);
  return { ...page, rows: page.lines.map((line) => parser.parse(line)) };
}

const identity = (text: string): unknown => text;

describe("COPY text format", () => {
  test("escapes exactly backslash, newline, carriage return and tab; NULL is \\N", () => {
    assert.equal(escapeCopyText("a\\b\nc\rd\te \"'"), "a\\\\b\\nc\\rd\\te \"'");
    assert.equal(copyTextLine(["1", null, "", "x\ty"]), "1\t\\N\t\tx\\ty");
  });

  test("copyDataMessages frames the text as CopyData messages of about the chunk size", () => {
    const rows = Array.from({ length: 100 }, (_, index) => [String(index), "x".repeat(50)]);
    const messages = copyDataMessages(rows.map((row) => copyTextLine(row)), 1000);
    assert.ok(messages.length > 2 && messages.length % 2 === 0);
    let text = "";
    for (let at = 0; at < messages.length; at += 2) {
      const header = messages[at] as Buffer;
      const data = messages[at + 1] as Buffer;
      assert.equal(header[0], 0x64);
      assert.equal(header.readUInt32BE(1), data.length + 4);
      text += data.toString("utf8");
    }
    assert.equal(text, rows.map((row) => `${copyTextLine(row)}\n`).join(""));
  });

  test("what copyTextLine writes, the decoder reads back value for value, whatever the chunk boundaries", () => {
    const rows = TRICKY.map((value, index) => [String(index), value, index % 3 === 0 ? null : value]);
    const text = rows.map((row) => `${copyTextLine(row)}\n`).join("");
    const columns: CopyColumns = { names: ["id", "value", "maybe"], parsers: [identity, identity, identity], positionColumns: 0 };
    const whole = decode(columns, text);
    assert.deepEqual(whole.lines, rows.map((row) => copyTextLine(row)));
    assert.deepEqual(
      whole.rows,
      rows.map(([id, value, maybe]) => ({ id, value, maybe })),
    );
    // Cut everywhere, including inside the four bytes of the emoji.
    const length = Buffer.byteLength(text);
    for (let cut = 1; cut < length; cut += 7) assert.deepEqual(decode(columns, text, [cut]).rows, whole.rows);
    assert.deepEqual(decode(columns, text, Array.from({ length: length - 1 }, (_, at) => at + 1)).rows, whole.rows);
  });

  test("the trailing position columns become positions, parsers apply to the payload columns only", () => {
    const columns: CopyColumns = { names: ["id", "n"], parsers: [Number, (text) => Number(text) * 2], positionColumns: 1 };
    const { rows, lines, positions } = decode(columns, "1\t21\t1\n2\t\\N\tk\\tey\n");
    assert.deepEqual(lines, ["1\t21", "2\t\\N"]);
    assert.deepEqual(rows, [
      { id: 1, n: 42 },
      { id: 2, n: null },
    ]);
    assert.deepEqual(positions, [["1"], ["k\tey"]]);
  });

  test("a row with another number of columns reports that the columns changed; a truncated output fails", () => {
    const columns: CopyColumns = { names: ["a", "b"], parsers: [identity, identity], positionColumns: 0 };
    assert.throws(() => decode(columns, "1\n"), CopyColumnsChanged);
    assert.throws(() => decode(columns, "1\t2\t3\n"), CopyColumnsChanged);
    assert.throws(() => decode(columns, "1\t\\N\t3\n"), CopyColumnsChanged);
    assert.throws(() => decode(columns, "1\t2"), /ended inside a row/);
  });

  test("copyTextField and copyTextFields read back what copyTextLine wrote, NULL included", () => {
    const values = ["1", null, "tab\there", "back\\slash", "", "émoji 😀"];
    const line = copyTextLine(values);
    assert.deepEqual(copyTextFields(line, values.length), values);
    values.forEach((value, at) => assert.equal(copyTextField(line, at), value, `field ${at}`));
    assert.deepEqual(copyTextFields("a\tb", 2), ["a", "b"]);
  });

  test("unescapes every sequence COPY may write, octal and hex bytes included", () => {
    assert.equal(unescapeCopyText("a\\\\b\\nc\\rd\\te\\bf\\fg\\vh\\q"), "a\\b\nc\rd\te\bf\fg\vh" + "q");
    assert.equal(unescapeCopyText("\\101\\x42\\x"), "ABx");
    // Two escaped bytes forming one UTF-8 character.
    assert.equal(unescapeCopyText("caf\\303\\251 \\xc3\\xa9"), "café é");
  });
});
