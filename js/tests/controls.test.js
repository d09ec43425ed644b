import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { KEY_CONTROLS, keyCommand, keyRoute, MOUSE_CONTROLS } from "../src/keys.js";
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
  // a correction drawn far from the estimate starts where it was drawn: no connector down to the estimate
  const jumped = Float32Array.of(200, 200, 0, 200, 300, 300, 200, 0, 0, 200);
  const apart = f0Polylines({ frameTimes, hz: jumped, corrected, confidence }, view);
  assert.deepEqual(apart.get("corrected"), [[4, 5]]);
  assert.deepEqual(apart.get("estimated-3"), [[0, 1], [6], [9]]);
});

test("colours: saliency shading tints the spectrogram", () => {
  assert.deepEqual(pixelColour(0, 0).slice(0, 3).map(Math.round), [20, 20, 40]);
  const shaded = pixelColour(0, 255);
  assert.ok(shaded[0] > 150 && shaded[2] < 40);
});

test("key routing: the notebook keeps save, run and Escape; plain keys never reach its cell commands", () => {
  const focused = { focused: true, hovered: false, typing: false, escapable: false };
  const route = (k, mods = {}, state = focused) => keyRoute(key(k, mods), state);
  assert.equal(route("s", { ctrlKey: true }), "notebook", "Ctrl+S saves the notebook");
  assert.equal(route("s", { metaKey: true }), "notebook", "Cmd+S too");
  assert.equal(route("Enter", { shiftKey: true }), "notebook", "Shift+Enter runs the cell");
  assert.equal(route("Enter", { ctrlKey: true }), "notebook");
  assert.equal(route("Escape"), "notebook", "Escape with nothing to close leaves the editor");
  assert.equal(route("Escape", {}, { ...focused, escapable: true }), "editor", "...or closes the selection / help");
  assert.equal(route("z", { ctrlKey: true }), "editor", "the editor's undo");
  assert.equal(route("s"), "editor", "snap");
  assert.equal(route("a"), "none", "a plain key the editor does not use inserts no cell");
  assert.equal(route("d"), "none");
  assert.equal(route("Enter"), "none");
  assert.equal(route("Tab"), "notebook");
});

test("key routing: the editor's keys work under the pointer, never while typing elsewhere", () => {
  const away = { focused: false, hovered: false, typing: false, escapable: true };
  const hovered = { ...away, hovered: true };
  assert.equal(keyRoute(key("s"), away), "notebook");
  assert.equal(keyRoute(key("s"), hovered), "editor");
  assert.equal(keyRoute(key("a"), hovered), "notebook", "not the editor's key: the notebook's");
  assert.equal(keyRoute(key("s", { ctrlKey: true }), hovered), "notebook");
  assert.equal(keyRoute(key("s"), { ...hovered, typing: true }), "notebook", "typing in a code cell");
  assert.equal(keyRoute(key("z", { ctrlKey: true }), { ...hovered, focused: true, typing: true }), "notebook");
});
