import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import {
  clampView,
  formatTime,
  timeAxisTitle,
  fullView,
  hzToY,
  nearestFrame,
  noteLines,
  panView,
  pitchGrid,
  timeTicks,
  timeToX,
  visibleFrames,
  xToTime,
  yToHz,
  zoomView,
} from "../src/geometry.js";

const PLOT = { left: 40, top: 4, width: 800, height: 300 };
// what the kernel sends as `pitch_grid` (tests/test_widgets.py checks it against ipysvs.f0)
const GRID = pitchGrid(JSON.parse(readFileSync(new URL("../../tests/golden/pitch_grid.json", import.meta.url), "utf8")));
const { hzToBin, binToHz } = GRID;

test("bins follow the kernel's grid: 55 Hz is bin 0, 60 bins per octave", () => {
  assert.equal(hzToBin(55), 0);
  assert.equal(hzToBin(110), 60);
  assert.ok(Math.abs(binToHz(hzToBin(261.63)) - 261.63) < 1e-9);
});

test("another grid from the kernel moves every conversion with it", () => {
  const coarse = pitchGrid({ fmin_hz: 100, bins_per_octave: 12, n_bins: 48 });
  assert.equal(coarse.hzToBin(200), 12);
  const view = fullView(10, PLOT, coarse);
  assert.equal(view.b1, 48);
  assert.equal(hzToY(view, 100), 304);
  assert.equal(panView(view, 0, 1000, 10).b1, 48);
});

test("a malformed grid is refused with an ipysvs error", () => {
  assert.throws(() => pitchGrid({ fmin_hz: 0, bins_per_octave: 60, n_bins: 320 }), /ipysvs: invalid pitch grid/);
  assert.throws(() => pitchGrid(undefined), /ipysvs: invalid pitch grid/);
});

test("time and pitch round-trip through pixels", () => {
  const view = fullView(20, PLOT, GRID);
  assert.equal(timeToX(view, 0), 40);
  assert.equal(timeToX(view, 20), 840);
  assert.ok(Math.abs(xToTime(view, timeToX(view, 7.3)) - 7.3) < 1e-12);
  assert.ok(Math.abs(yToHz(view, hzToY(view, 440)) - 440) < 1e-9);
  assert.ok(hzToY(view, 880) < hzToY(view, 440), "higher pitch is higher up");
  assert.equal(hzToY(view, 55), 304);
});

test("zoom keeps the anchor under the pointer and stays inside the song", () => {
  const view = fullView(20, PLOT, GRID);
  const zoomed = zoomView(view, 0.5, 5, 20);
  assert.ok(Math.abs(timeToX(zoomed, 5) - timeToX(view, 5)) < 1e-9);
  assert.ok(Math.abs(zoomed.t1 - zoomed.t0 - 10) < 1e-12);
  const out = zoomView(zoomed, 10, 5, 20);
  assert.deepEqual([out.t0, out.t1], [0, 20]);
  const pitch = zoomView(view, 0.5, 160, 20, "pitch");
  assert.deepEqual([pitch.b0, pitch.b1], [80, 240]);
  const tiny = zoomView(view, 1e-6, 5, 20);
  assert.ok(tiny.t1 - tiny.t0 >= 0.25 - 1e-12, "a minimum span");
});

test("pan is clamped to the song and the pitch grid", () => {
  const view = zoomView(fullView(20, PLOT, GRID), 0.25, 10, 20);
  const moved = panView(view, 100, 1000, 20);
  assert.equal(moved.t1, 20);
  assert.equal(moved.b1, 320);
  assert.ok(Math.abs(moved.t1 - moved.t0 - (view.t1 - view.t0)) < 1e-9);
  const back = clampView({ ...moved, t0: -3, t1: 2 }, 20);
  assert.deepEqual([back.t0, back.t1], [0, 5]);
});

test("frame look-ups", () => {
  const times = Float64Array.from({ length: 100 }, (_, i) => i * 0.125);
  assert.equal(nearestFrame(times, 0.18), 1);
  assert.equal(nearestFrame(times, 0.19), 2);
  assert.equal(nearestFrame(times, -5), 0);
  assert.equal(nearestFrame(times, 50), 99);
  assert.deepEqual(visibleFrames(times, 1, 2), [7, 17]);
});

test("note lines: C and A labelled, the paper's grid", () => {
  const lines = noteLines(GRID, hzToBin(100), hzToBin(450), 0.5);
  assert.deepEqual(
    lines.map((l) => l.name),
    ["A2", "C3", "A3", "C4", "A4"],
  );
  assert.ok(lines.find((l) => l.name === "C4").strong);
  assert.ok(Math.abs(binToHz(lines.find((l) => l.name === "A4").bin) - 440) < 1e-9);
  const dense = noteLines(GRID, hzToBin(200), hzToBin(300), 4);
  assert.equal(dense.length, 7, "every semitone once they are tall enough");
});

test("time ticks and labels", () => {
  const { step, ticks } = timeTicks(0, 20, 800);
  assert.equal(step, 2);
  assert.deepEqual(ticks.slice(0, 3), [0, 2, 4]);
  assert.equal(timeTicks(0, 600, 800).step, 60);
  assert.equal(formatTime(2.5, 0.5), "2.5");
  assert.equal(formatTime(125, 5), "2:05");
  assert.equal(timeAxisTitle([0, 20, 40]), "time (s)");
  assert.equal(timeAxisTitle([40, 60, 80]), "time (m:ss)", "labels in m:ss get a title that says so");
});
