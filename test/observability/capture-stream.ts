import { Writable } from "node:stream";

/** A writable that keeps everything written to it, for asserting on log output. */
export class CaptureStream extends Writable {
  readonly chunks: string[] = [];
  isTTY = false;

  override _write(chunk: Buffer | string, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.chunks.push(chunk.toString());
    callback();
  }

  get text(): string {
    return this.chunks.join("");
  }

  /** Every non-empty line parsed as JSON; throws when a line is not valid JSON. */
  jsonLines(): Array<Record<string, unknown>> {
    return this.text
      .split("\n")
      .filter((line) => line.length > 0)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  }
}
