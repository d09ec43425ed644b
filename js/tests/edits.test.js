import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { applyDraw, applyShift, applyUnvoice, spanOf, Stroke } from "../src/edits.js";

const HOP = 1024 / 44100;
const frameTimes = Float64Array.from({ length: 200 }, (_, i) => i * HOP);

function trajectory(hz = 220) {
  return { frameTimes, hz: new Float32Array(200).fill(hz), corrected: new Uint8Array(200) };
}

test("a stroke keeps one point per frame, filled in log frequency, the latest value winning", () => {
  const stroke = new Stroke(frameTimes);
  stroke.add(frameTimes[10], 200);
  stroke.add(frameTimes[14], 400);
  const { times, hz } = stroke.points();
  assert.equal(times.length, 5);
  assert.ok(times instanceof Float64Array && hz instanceof Float32Array);
  assert.deepEqual(Array.from(times), Array.from(frameTimes.slice(10, 15)));
  assert.ok(Math.abs(hz[2] - 200 * Math.SQRT2) < 1e-3, "halfway in log frequency");
  stroke.add(frameTimes[12], 300); // going back overwrites
  const again = stroke.points();
  assert.equal(again.times.length, 5);
  assert.ok(Math.abs(again.hz[2] - 300) < 1e-3);
  assert.ok(Math.abs(again.hz[4] - 400) < 1e-3);
});

test("a stroke's times strictly increase whatever the pointer does", () => {
  const stroke = new Stroke(frameTimes);
  for (const t of [1.0, 0.5, 0.7, 0.2, 0.9]) stroke.add(t, 300);
  const { times } = stroke.points();
  for (let i = 1; i < times.length; i++) assert.ok(times[i] > times[i - 1]);
});

test("spans are ordered and clipped to the song", () => {
  assert.deepEqual(spanOf(3, 1, 2), [1, 2]);
  assert.deepEqual(spanOf(-1, 0.5, 2), [0, 0.5]);
});

test("draw preview matches ipysvs.interactive.edits.Draw (inclusive span, log-linear)", () => {
  const t = trajectory();
  applyDraw(t, Float64Array.of(frameTimes[10], frameTimes[20]), Float32Array.of(100, 400));
  assert.equal(t.corrected[9], 0);
  assert.equal(t.corrected[10], 1);
  assert.equal(t.corrected[20], 1);
  assert.equal(t.corrected[21], 0);
  assert.ok(Math.abs(t.hz[15] - 200) < 1e-3);
  assert.equal(t.hz[21], 220);
});

test("draw preview: a 0 Hz point unvoices its neighbourhood", () => {
  const t = trajectory();
  applyDraw(t, Float64Array.of(frameTimes[10], frameTimes[14], frameTimes[18]), Float32Array.of(300, 0, 300));
  assert.equal(t.hz[14], 0);
  assert.equal(t.hz[13], 0);
  assert.ok(Math.abs(t.hz[11] - 300) < 1e-3);
});

test("unvoice and octave previews cover [t0, t1)", () => {
  const t = trajectory();
  applyUnvoice(t, frameTimes[5], frameTimes[8]);
  assert.deepEqual(Array.from(t.hz.slice(4, 9)), [220, 0, 0, 0, 220]);
  applyShift(t, frameTimes[0], frameTimes[6], 1);
  assert.equal(t.hz[0], 440);
  assert.equal(t.hz[5], 0, "unvoiced frames stay unvoiced");
  assert.equal(t.corrected[6], 0 + 1, "frame 6 was unvoiced before");
  assert.equal(t.corrected[8], 0);
});

// The cases tests/test_edits.py replays through ipysvs.interactive.edits: the preview must agree.
const GOLDEN = JSON.parse(readFileSync(new URL("../../tests/golden/edit_cases.json", import.meta.url), "utf8"));

function replay(trajectory, record) {
  if (record.kind === "draw") applyDraw(trajectory, Float64Array.from(record.times), Float32Array.from(record.hz));
  else if (record.kind === "unvoice") applyUnvoice(trajectory, record.t0, record.t1);
  else if (record.kind === "shift_octave") applyShift(trajectory, record.t0, record.t1, record.octaves);
  else throw new Error(`the editor has no preview of ${record.kind}`);
}

for (const golden of GOLDEN.cases) {
  test(`golden edit case shared with Python: ${golden.name}`, () => {
    const trajectory = {
      frameTimes: Float64Array.from(GOLDEN.frame_times),
      hz: Float64Array.from(golden.estimate_hz),
      corrected: new Uint8Array(GOLDEN.frame_times.length),
    };
    for (const record of golden.edits) replay(trajectory, record);
    golden.hz.forEach((expected, i) => {
      const error = Math.abs(trajectory.hz[i] - expected);
      assert.ok(error <= 1e-6 * Math.max(expected, 1), `frame ${i}: ${trajectory.hz[i]} Hz, expected ${expected}`);
    });
    assert.deepEqual(Array.from(trajectory.corrected, Boolean), golden.corrected);
  });
}
