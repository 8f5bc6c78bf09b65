// Incremental polling with a watermark (DESIGN.md pitfall 6): the checkpoint holds the largest
// watermark written, never the clock; records sharing the boundary value are neither lost nor
// delivered twice, also when they are split across polls or pages, and a run that fails
// part-way resumes from the checkpoint without losing a record.
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import type { HttpSourceOptions } from "../../../src/connectors/http/schema.js";
import type { Batch, Connection } from "../../../src/connectors/types.js";
import { errorKind } from "../../../src/core/errors.js";
import { MemoryCheckpoints, drain } from "../connector-context.js";
import { json } from "./local-api.js";
import { idsOf, openHttpSource, recordsFrom, startPagedApi } from "./paged-api.js";
import type { ApiRecord, PagedApi } from "./paged-api.js";

const at = (second: number): string => `2024-01-01T00:00:${String(second).padStart(2, "0")}Z`;

describe("http source watermark", () => {
  const apis: PagedApi[] = [];
  const connections: Connection<HttpSourceOptions, never>[] = [];
  after(async () => {
    for (const connection of connections) await connection.close();
    for (const api of apis) await api.close();
  });
  async function api(records: ApiRecord[]): Promise<PagedApi> {
    const paged = await startPagedApi(records);
    apis.push(paged);
    return paged;
  }
  /** One run of the source over `checkpoints` (the state a restarted process finds). */
  async function run(paged: PagedApi, options: HttpSourceOptions, checkpoints: MemoryCheckpoints, limit?: number): Promise<Batch[]> {
    const { connection, source } = await openHttpSource({ base_url: `${paged.api.url}/v1` }, options, { checkpoints });
    connections.push(connection);
    return drain(source, limit === undefined ? {} : { limit });
  }
  const nextLink = (watermark: HttpSourceOptions["watermark"]): HttpSourceOptions => ({
    path: "/items/next_link",
    records: "data",
    pagination: { type: "next_link", next: "links.next" },
    watermark,
  });

  test("first run gets all; the next gets only what changed, with a record at the boundary timestamp committed late", async () => {
    const paged = await api(recordsFrom(12));
    const checkpoints = new MemoryCheckpoints();
    const options = nextLink({ field: "updated_at", param: "updated_since" });
    assert.deepEqual(idsOf(await run(paged, options, checkpoints)), recordsFrom(12).map((record) => record.id));
    assert.deepEqual(checkpoints.value, { field: "updated_at", watermark: at(12), seen: ["r012"] }, "the largest value written, not the clock");
    assert.equal(paged.pageRequests()[0]?.searchParams.get("updated_since"), null, "no watermark on the very first poll");

    // Committed after the first poll with the boundary's timestamp: `updated_at > 12` would lose it.
    paged.records.push({ id: "r100", updated_at: at(12) }, { id: "r101", updated_at: at(13) });
    (paged.records[2] as ApiRecord).updated_at = at(14);
    const before = paged.pageRequests().length;
    const second = await run(paged, options, checkpoints);
    assert.deepEqual(idsOf(second), ["r100", "r101", "r003"], "r012 (at the boundary, already written) is skipped; r100 is not lost");
    assert.equal(paged.pageRequests()[before]?.searchParams.get("updated_since"), at(12), "asks from the checkpointed watermark, inclusive");
    assert.deepEqual(second.flatMap((batch) => batch.messages.map((message) => message.metadata.watermark)), [at(12), at(13), at(14)]);
    assert.deepEqual(checkpoints.value, { field: "updated_at", watermark: at(14), seen: ["r003"] });

    assert.deepEqual(idsOf(await run(paged, options, checkpoints)), [], "nothing new, nothing delivered");
  });

  test("watermark.initial is the first poll's watermark, in the query param and in templates", async () => {
    const paged = await api(recordsFrom(12));
    const checkpoints = new MemoryCheckpoints();
    const options: HttpSourceOptions = { path: "/items/all", query: { since: "{{ watermark }}" }, watermark: { field: "updated_at", param: "updated_since", initial: at(10) } };
    assert.deepEqual(idsOf(await run(paged, options, checkpoints)), ["r010", "r011", "r012"]);
    const request = paged.pageRequests()[0];
    assert.equal(request?.searchParams.get("updated_since"), at(10));
    assert.equal(request?.searchParams.get("since"), at(10));
  });

  test("sorted: the checkpoint moves after every page; a crash between pages, with the boundary value split across them, resumes without loss", async () => {
    // r005, r006 and r007 share one timestamp: pages of five split them 1 + 2.
    const records = recordsFrom(12, (n) => at(n >= 5 && n <= 7 ? 5 : n));
    const paged = await api(records);
    const checkpoints = new MemoryCheckpoints();
    const options = nextLink({ field: "updated_at", param: "updated_since", sorted: true });
    const first = await run(paged, options, checkpoints, 1);
    assert.deepEqual(idsOf(first), ["r001", "r002", "r003", "r004", "r005"]);
    assert.deepEqual(first[0]?.checkpoint, { field: "updated_at", watermark: at(5), seen: ["r005"] });
    assert.deepEqual(checkpoints.value, first[0]?.checkpoint, "stored on ack, before the next page");
    // The process dies here (the second page was never acked). The restart asks from the watermark:
    const second = await run(paged, options, checkpoints);
    assert.deepEqual(idsOf(second), ["r006", "r007", "r008", "r009", "r010", "r011", "r012"], "r006 and r007 share r005's timestamp and are not lost");
    assert.deepEqual(checkpoints.value, { field: "updated_at", watermark: at(12), seen: ["r012"] });
  });

  test("unsorted (default): nothing is checkpointed until the poll's last page; a poll cut short is read again", async () => {
    const paged = await api(recordsFrom(12));
    const checkpoints = new MemoryCheckpoints();
    const options = nextLink({ field: "updated_at", param: "updated_since" });
    const first = await run(paged, options, checkpoints, 2);
    assert.equal(idsOf(first).length, 10);
    assert.equal(checkpoints.value, undefined, "two pages acked, but later pages might hold lower watermarks");
    const second = await run(paged, options, checkpoints);
    assert.deepEqual(idsOf(second), recordsFrom(12).map((record) => record.id), "delivered again: at least once");
    assert.equal(checkpoints.writes, 1, "one checkpoint write per poll");
  });

  test("a page failing with 500 (after its retries) fails the run as transient; once fixed, the restart resumes from the checkpoint", async () => {
    const paged = await api(recordsFrom(23));
    const options: HttpSourceOptions = {
      path: "/items/cursor",
      records: "data",
      pagination: { type: "cursor", cursor: "meta.next_cursor", param: "after" },
      watermark: { field: "updated_at", param: "updated_since", sorted: true },
      retry: { attempts: 2, base_delay: 1, max_delay: 2 },
    };
    let failures = 0;
    paged.intercept = (_request, url, response) => {
      if (url.searchParams.get("after") !== "r010") return false;
      failures += 1;
      json(response, 500, { error: "database unavailable" });
      return true;
    };
    const checkpoints = new MemoryCheckpoints();
    const delivered: string[] = [];
    const { connection, source } = await openHttpSource({ base_url: `${paged.api.url}/v1` }, options, { checkpoints });
    connections.push(connection);
    const failure = await (async () => {
      try {
        for await (const batch of source.batches(new AbortController().signal)) {
          delivered.push(...batch.messages.map((message) => message.id));
          await batch.ack();
        }
      } catch (error) {
        return error;
      }
      return undefined;
    })();
    assert.ok(failure instanceof Error, "the run fails");
    assert.equal(errorKind(failure), "transient", "the engine restarts it with backoff");
    assert.match(failure.message, /answered 500/);
    assert.equal(failures, 2, "retry.attempts tries of the page");
    assert.equal(delivered.length, 10);
    assert.deepEqual(checkpoints.value, { field: "updated_at", watermark: at(10), seen: ["r010"] });

    paged.intercept = undefined;
    const rest = idsOf(await run(paged, options, checkpoints));
    assert.deepEqual(rest, recordsFrom(23).slice(10).map((record) => record.id), "resumes after the last page written");
    assert.deepEqual([...delivered, ...rest], recordsFrom(23).map((record) => record.id), "none lost, none twice");
  });

  test("continuous: polls again after `interval`, and the poll's wait ends with the abort signal", async () => {
    const paged = await api(recordsFrom(3));
    const { connection, source } = await openHttpSource(
      { base_url: `${paged.api.url}/v1` },
      { path: "/items/all", watermark: { field: "updated_at", param: "updated_since" }, interval: 20 },
      { follow: true },
    );
    connections.push(connection);
    const stop = new AbortController();
    const seen: string[] = [];
    for await (const batch of source.batches(stop.signal)) {
      seen.push(...batch.messages.map((message) => message.id));
      await batch.ack();
      if (seen.length === 3 && !paged.records.some((record) => record.id === "late")) paged.records.push({ id: "late", updated_at: at(30) });
      if (seen.includes("late")) {
        stop.abort();
        // Let the generator notice: the next pull ends it.
      }
    }
    assert.deepEqual(seen, ["r001", "r002", "r003", "late"]);
    assert.ok(paged.pageRequests().length >= 2);
  });
});
