import { test } from "node:test";
import assert from "node:assert/strict";
import { PositionLedger } from "../../../src/connectors/shared/position-ledger.js";

test("positions persist only on ack, in the order the runner acks", async () => {
  const persisted: number[] = [];
  const ledger = new PositionLedger<number>(0, async (p: number) => void persisted.push(p));
  const a = ledger.advance(10);
  const b = ledger.advance(20);
  assert.equal(ledger.reading, 20);
  assert.deepEqual(persisted, []);
  await a.ack();
  await b.ack();
  await b.ack();
  assert.deepEqual(persisted, [10, 20]);
  assert.equal(ledger.committed, 20);
});

test("a nack rewinds to the start of the nacked batch and voids it and later batches, not earlier ones", async () => {
  const persisted: number[] = [];
  const ledger = new PositionLedger<number>(0, async (p: number) => void persisted.push(p));
  const a = ledger.advance(10);
  const b = ledger.advance(20);
  const c = ledger.advance(30);
  const generation = ledger.generation;
  b.nack();
  assert.equal(ledger.reading, 10);
  assert.notEqual(ledger.generation, generation);
  await c.ack();
  assert.deepEqual(persisted, [], "a batch read after the nacked one must not move the checkpoint");
  await a.ack();
  assert.deepEqual(persisted, [10]);
  const again = ledger.advance(20);
  await again.ack();
  assert.deepEqual(persisted, [10, 20]);
});
