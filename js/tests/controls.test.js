import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { KEY_CONTROLS, keyCommand, MOUSE_CONTROLS } from "../src/keys.js";
import { f0Polylines, pixelColour } from "../src/render.js";

const key = (k, mods = {}) => ({ key: k, ctrlKey: false, metaKey: false, altKey: false, shiftKey: false, ...mods });

test("undo and redo shortcuts", () => {
  assert.equal(keyCommand(key("z", { ctrlKey: true })).command, "undo");
  assert.equal(keyCommand(key("Z", { ctrlKey: true, shiftKey: true })).command, "redo");
  assert.equal(keyCommand(key("y", { metaKey: true })).command, "redo");
  assert.equal(keyCommand(key("z")), null);
  assert.equal(keyCommand(key("?", { shiftKey: true })).command, "toggleHelp");
  assert.equal(keyCommand(key("PageUp")).command, "octaveUp");
  assert.equal(keyCommand(key("s", { ctrlKey: true })), null, "Ctrl+S stays the notebook's save");
});

test("every key command is an editor method and the mouse table has the paper's gestures", () => {
  const source = readFileSync(new URL("../src/editor.js", import.meta.url), "utf8");
  for (const control of KEY_CONTROLS) assert.match(source, new RegExp(`\\n  ${control.command}\\(`), control.command);
  const gestures = MOUSE_CONTROLS.map(([gesture]) => gesture);
  assert.ok(gestures.includes("Left-drag") && gestures.includes("Right-drag"));
});

test("F0 lines: corrected and estimated frames in separate styles, gaps at unvoiced frames", () => {
  const frameTimes = Float64Array.from({ length: 10 }, (_, i) => i);
  const hz = Float32Array.of(200, 200, 0, 200, 200, 200, 200, 0, 0, 200);
  const corrected = Uint8Array.of(0, 0, 0, 0, 1, 1, 0, 0, 0, 0);
  const confidence = Uint8Array.of(255, 255, 0, 10, 10, 10, 255, 0, 0, 255);
  const view = { t0: 0, t1: 9, b0: 0, b1: 320, left: 0, top: 0, width: 100, height: 100 };
  const lines = f0Polylines({ frameTimes, hz, corrected, confidence }, view);
  assert.deepEqual(lines.get("estimated-3"), [[0, 1], [5, 6], [9]]);
  assert.deepEqual(lines.get("estimated-0"), [[3]]);
  assert.deepEqual(lines.get("corrected"), [[3, 4, 5]]);
});

test("colours: saliency shading tints the spectrogram", () => {
  assert.deepEqual(pixelColour(0, 0).slice(0, 3).map(Math.round), [20, 20, 40]);
  const shaded = pixelColour(0, 255);
  assert.ok(shaded[0] > 150 && shaded[2] < 40);
});
