import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { asBytes, asTyped, drawPayload, Requests, SYNCED_MODEL, summary } from "../src/protocol.js";

test("requests are numbered, sent with their buffers and timed by their ack", () => {
  const sent = [];
  let clock = 100;
  const requests = new Requests((content, buffers) => sent.push({ content, buffers }), () => clock);
  const points = { times: Float64Array.of(1, 1.1), hz: Float32Array.of(200, 210) };
  const { fields, buffers } = drawPayload(points);
  const id = requests.request("draw", fields, buffers);
  assert.deepEqual(sent[0].content, { points: 2, id, action: "draw" });
  assert.equal(sent[0].buffers.length, 2);
  assert.equal(sent[0].buffers[0].byteLength, 16);
  assert.equal(sent[0].buffers[1].byteLength, 8);
  clock = 112.5;
  assert.deepEqual(requests.settle({ kind: "ack", id, ok: true }), { id, action: "draw", ms: 12.5, ok: true, error: "" });
  assert.equal(requests.settle({ kind: "ack", id, ok: true }), null, "each ack settles once");
  assert.deepEqual(requests.roundTrips, [12.5]);
  const second = requests.request("undo");
  assert.equal(second, id + 1);
  assert.equal(requests.settle({ id: second, ok: false, error: "nothing" }).error, "nothing");
});

test("received buffers become typed arrays, aligned or not", () => {
  const values = Float32Array.of(1.5, -2, 3);
  assert.deepEqual(Array.from(asTyped(new DataView(values.buffer), Float32Array)), [1.5, -2, 3]);
  const shifted = new Uint8Array(13);
  shifted.set(new Uint8Array(values.buffer), 1);
  assert.deepEqual(Array.from(asTyped(new DataView(shifted.buffer, 1, 12), Float32Array)), [1.5, -2, 3]);
  assert.equal(asBytes(values.buffer).length, 12);
});

test("summary", () => {
  assert.deepEqual(summary([3, 1, 2, 10]), { median: 2.5, max: 10, count: 4 });
  assert.equal(summary([]).count, 0);
});

test("the editor reads only the synced model's typed state", () => {
  const source = readFileSync(new URL("../src/editor.js", import.meta.url), "utf8");
  const read = new Set([...source.matchAll(/model\.get\("(\w+)"\)/g)].map((m) => m[1]));
  const watched = new Set([...source.matchAll(/"change:(\w+)"/g)].map((m) => m[1]));
  assert.ok(read.size > 10, "the scan finds the editor's reads");
  for (const name of [...read, ...watched]) assert.ok(name in SYNCED_MODEL, `${name} is not in SYNCED_MODEL`);
});
