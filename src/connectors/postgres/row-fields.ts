/**
 * The field names of rows of one shape, shared by all of them, with each name's position.
 * Rows of one table nearly always have one shape, so a few of these serve a whole run.
 */
export class FieldShape {
  readonly names: readonly string[];
  readonly #positions: ReadonlyMap<string, number>;

  constructor(names: readonly string[]) {
    this.names = names;
    this.#positions = new Map(names.map((name, at) => [name, at]));
  }

  positionOf(name: string): number | undefined {
    return this.#positions.get(name);
  }
}

/**
 * A row's fields as a Map (name → value, in payload order) that costs one array per row:
 * the names and their lookup come from the shape shared with the other rows. The first
 * change (`set`, `delete`, `clear`) copies the fields into an ordinary Map of its own, so
 * a changed row never affects another.
 */
export class RowFields implements Map<string, unknown> {
  readonly shape: FieldShape;
  readonly #values: unknown[];
  /** The fields once changed; every method reads from it from then on. */
  #own: Map<string, unknown> | undefined;

  /** `values` are in the order of `shape.names`; the row keeps the array. */
  constructor(shape: FieldShape, values: unknown[]) {
    this.shape = shape;
    this.#values = values;
  }

  /** The values in the order of `shape.names`, while the row is unchanged (undefined after a change). */
  get valuesInShapeOrder(): readonly unknown[] | undefined {
    return this.#own === undefined ? this.#values : undefined;
  }

  get size(): number {
    return this.#own === undefined ? this.#values.length : this.#own.size;
  }

  get [Symbol.toStringTag](): string {
    return "RowFields";
  }

  get(name: string): unknown {
    if (this.#own !== undefined) return this.#own.get(name);
    const at = this.shape.positionOf(name);
    return at === undefined ? undefined : this.#values[at];
  }

  has(name: string): boolean {
    return this.#own !== undefined ? this.#own.has(name) : this.shape.positionOf(name) !== undefined;
  }

  set(name: string, value: unknown): this {
    this.#mutable().set(name, value);
    return this;
  }

  delete(name: string): boolean {
    return this.#mutable().delete(name);
  }

  clear(): void {
    this.#mutable().clear();
  }

  forEach(callback: (value: unknown, key: string, map: Map<string, unknown>) => void, thisArg?: unknown): void {
    for (const [name, value] of this.entries()) callback.call(thisArg, value, name, this);
  }

  *entries(): MapIterator<[string, unknown]> {
    if (this.#own !== undefined) {
      yield* this.#own.entries();
      return;
    }
    const names = this.shape.names;
    for (let at = 0; at < names.length; at++) yield [names[at] as string, this.#values[at]];
  }

  keys(): MapIterator<string> {
    return this.#own !== undefined ? this.#own.keys() : this.shape.names.values();
  }

  values(): MapIterator<unknown> {
    return this.#own !== undefined ? this.#own.values() : this.#values.values();
  }

  [Symbol.iterator](): MapIterator<[string, unknown]> {
    return this.entries();
  }

  #mutable(): Map<string, unknown> {
    this.#own ??= new Map(this.entries());
    return this.#own;
  }
}

/** Finds the shared shape of a row's names; remembers the last shape and a bounded number of others. */
export class FieldShapes {
  readonly #byNames = new Map<string, FieldShape>();
  #last: FieldShape | undefined;

  /** True when `names[0..count)` are exactly the last shape's names. */
  isLast(names: readonly string[], count: number): boolean {
    const last = this.#last?.names;
    if (last === undefined || last.length !== count) return false;
    for (let at = 0; at < count; at++) if (names[at] !== last[at]) return false;
    return true;
  }

  /** The shape of `names[0..count)`. */
  of(names: readonly string[], count: number): FieldShape {
    if (this.isLast(names, count)) return this.#last as FieldShape;
    const own = names.slice(0, count);
    const signature = own.join("\u0000");
    let shape = this.#byNames.get(signature);
    if (shape === undefined) {
      if (this.#byNames.size >= 256) this.#byNames.clear();
      shape = new FieldShape(own);
      this.#byNames.set(signature, shape);
    }
    this.#last = shape;
    return shape;
  }
}
