import type { MessageFailure } from "../types.js";
import { appendCopyValue } from "./copy-text.js";
import { RowFields } from "./row-fields.js";
import type { FieldShape } from "./row-fields.js";
import { columnKind, toPostgresText } from "./row-values.js";
import type { ColumnKind } from "./row-values.js";

/** A row to write: the index of its message and its fields. */
export interface FieldsRow {
  index: number;
  fields: ReadonlyMap<string, unknown>;
}

/** A row on its way into a COPY: the index of its message and its values as one line of COPY text, without the newline. */
export interface CopyLineRow {
  index: number;
  line: string;
}

/** Rows with the same set of columns (in the order of the group's first row). */
export interface RowGroup {
  columns: readonly string[];
  rows: CopyLineRow[];
}

interface GroupState {
  group: RowGroup;
  kinds: ColumnKind[];
}

/** A group as seen from one shape of rows: where each group column is among the shape's values. */
interface ShapeState extends GroupState {
  positions: number[];
}

/**
 * Groups rows by their set of columns and converts their values to PostgreSQL text, as
 * lines of COPY text. A
 * field the table lacks fails its row with `unknownColumn(name)`.
 *
 * Rows of one table nearly always share one shape, so the work per shape (checking the
 * columns, the sorted signature, the column kinds, where each column is) is done once per
 * shape; the per-row work is the value conversions.
 */
export function groupRows(
  rows: readonly FieldsRow[],
  columns: ReadonlyMap<string, string>,
  unknownColumn: (name: string) => unknown,
  failures: MessageFailure[],
): RowGroup[] {
  const groups = new Map<string, GroupState>();
  const byShape = new Map<FieldShape, ShapeState | null>();

  /** The group for rows with these names, or undefined (after failing the row) when the table lacks one. */
  const groupFor = (names: readonly string[], index: number): GroupState | undefined => {
    const unknown = names.find((name) => !columns.has(name));
    if (unknown !== undefined) {
      failures.push({ index, error: unknownColumn(unknown) });
      return undefined;
    }
    const signature = [...names].sort().join(",");
    let state = groups.get(signature);
    if (state === undefined) {
      state = { group: { columns: [...names], rows: [] }, kinds: names.map((name) => columnKind(columns.get(name) as string)) };
      groups.set(signature, state);
    }
    return state;
  };

  for (const row of rows) {
    const fields = row.fields;
    const shapeValues = fields instanceof RowFields ? fields.valuesInShapeOrder : undefined;
    if (shapeValues !== undefined) {
      const shape = (fields as RowFields).shape;
      let state = byShape.get(shape);
      if (state === undefined) {
        const found = groupFor(shape.names, row.index);
        state = found === undefined ? null : { ...found, positions: found.group.columns.map((name) => shape.positionOf(name) as number) };
        byShape.set(shape, state);
        if (state === null) continue;
      } else if (state === null) {
        failures.push({ index: row.index, error: unknownColumn(shape.names.find((name) => !columns.has(name)) as string) });
        continue;
      }
      const { kinds, positions } = state;
      let line = "";
      for (let at = 0; at < kinds.length; at++) line = appendCopyValue(line, at, toPostgresText(shapeValues[positions[at] as number], kinds[at] as ColumnKind));
      state.group.rows.push({ index: row.index, line });
      continue;
    }
    const state = groupFor([...fields.keys()], row.index);
    if (state === undefined) continue;
    const { group, kinds } = state;
    let line = "";
    for (let at = 0; at < kinds.length; at++) line = appendCopyValue(line, at, toPostgresText(fields.get(group.columns[at] as string), kinds[at] as ColumnKind));
    group.rows.push({ index: row.index, line });
  }
  return [...groups.values()].map((state) => state.group);
}

