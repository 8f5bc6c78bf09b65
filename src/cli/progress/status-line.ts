/**
 * A few lines at the bottom of a terminal that are redrawn in place, with log lines
 * written above them: every log write first erases the status, then draws it again, so
 * the two never interleave. Used as the logger's destination while progress is shown.
 */
export class StatusLine {
  readonly isTTY = true;
  readonly #out: NodeJS.WritableStream;
  #lines: string[] = [];
  #columns: () => number;

  constructor(out: NodeJS.WritableStream & { columns?: number }) {
    this.#out = out;
    this.#columns = () => (out.columns !== undefined && out.columns > 10 ? out.columns : 120);
  }

  /** Replaces the status with these lines (cut to the terminal width so nothing wraps). */
  show(lines: string[]): void {
    const width = this.#columns() - 1;
    this.#out.write(this.#erase() + this.#draw(lines.map((line) => (line.length > width ? `${line.slice(0, width - 1)}…` : line))));
  }

  /** A log line: written above the status, which is drawn again below it. */
  write(chunk: string): boolean {
    return this.#out.write(this.#erase() + chunk + this.#draw(this.#lines));
  }

  /** Removes the status for good (end of the run). */
  clear(): void {
    this.#out.write(this.#erase());
    this.#lines = [];
  }

  #draw(lines: string[]): string {
    this.#lines = lines;
    return lines.length === 0 ? "" : `${lines.join("\n")}`;
  }

  /** Carriage return, clear the line, and move up and clear for each extra line drawn. */
  #erase(): string {
    if (this.#lines.length === 0) return "";
    return "\r\x1b[2K" + "\x1b[1A\x1b[2K".repeat(this.#lines.length - 1);
  }
}
