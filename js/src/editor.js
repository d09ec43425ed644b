// The F0 editor widget (anywidget front end): a view of an ipysvs Session's vocal F0 over the song's
// log-frequency spectrogram. Every edit is sent to the kernel, which applies it with the Session's own
// methods and answers with the new trajectory (synced traits) and an acknowledgement.

import { applyDraw, applyShift, applyUnvoice, spanOf, Stroke } from "./edits.js";
import { fullView, panView, pitchGrid, xToTime, yToBin, yToHz, zoomView } from "./geometry.js";
import { KEY_CONTROLS, keyCommand, keyRoute, MOUSE_CONTROLS } from "./keys.js";
import { asBytes, asTyped, drawPayload, Requests, summary } from "./protocol.js";
import { buildTiles, COLOURS, drawBackground, drawForeground } from "./render.js";

const MARGIN = { left: 40, top: 4, right: 8, bottom: 22 };
const HEIGHT = 340;
const RANGE_SYNC_MS = 150; // the visible time range reaches the kernel after the view rests this long
const MAX_SAMPLES = 10000; // timing samples kept for the latency figures
const WHEEL_ZOOM = 1.0015; // zoom factor per wheel delta unit

function element(tag, attributes = {}, text = "") {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  if (text) node.textContent = text;
  return node;
}

function button(label, testid, title) {
  return element("button", { type: "button", class: "ipysvs-button", "data-testid": testid, title }, label);
}

function pushSample(list, value) {
  list.push(value);
  if (list.length > MAX_SAMPLES) list.shift();
}

class Editor {
  constructor(model, el) {
    this.model = model;
    this.root = element("div", { class: "ipysvs-editor" });
    el.appendChild(this.root);
    this.stats = { frameMs: [], roundTripMs: [] };
    this.requests = new Requests((content, buffers) => model.send(content, undefined, buffers), () => performance.now());
    this.requests.roundTrips = this.stats.roundTripMs;
    this.drag = null;
    this.selection = null;
    this.hovered = false; // the pointer is over the canvas
    this.playhead = null;
    this.audio = null; // {key, element, url}
    this.pendingAudioKey = "";
    this.showSalience = true;
    this.frameRequested = false;
    this.backgroundDirty = true;
    this.buildDom();
    this.readSong();
    this.readTrajectory();
    this.view = fullView(this.duration, this.plotArea(800), this.grid);
    this.listen();
    this.syncControls();
  }

  // ------------------------------------------------------------------ DOM
  buildDom() {
    const bar = element("div", { class: "ipysvs-toolbar" });
    this.playButton = button("▶ Play", "play-button", "play / pause (Space)");
    this.stemSelect = element("select", { class: "ipysvs-select", "data-testid": "stem-select", title: "what to play" });
    for (const stem of ["mixture", "vocals", "accompaniment"]) this.stemSelect.appendChild(element("option", { value: stem }, stem));
    this.undoButton = button("↶ Undo", "undo-button", "undo (Ctrl+Z)");
    this.redoButton = button("↷ Redo", "redo-button", "redo (Ctrl+Shift+Z)");
    this.regionButtons = [
      [button("Oct +", "octave-up-button", "selection an octave up (PageUp)"), "octaveUp"],
      [button("Oct −", "octave-down-button", "selection an octave down (PageDown)"), "octaveDown"],
      [button("Snap", "snap-button", "snap the selection to the saliency ridge (S)"), "snap"],
      [button("Delete F0", "unvoice-button", "delete the F0 in the selection (Delete)"), "unvoice"],
      [button("Sung", "vocal-button", "mark the selection as sung (V)"), "markVocal"],
      [button("Silent", "silent-button", "mark the selection as silent (N)"), "markSilent"],
    ];
    this.adaptButton = button("Update DNN", "adapt-button", "fine-tune the model on the corrections (Session.adapt)");
    this.adaptButton.classList.add("ipysvs-primary");
    this.progress = element("progress", { class: "ipysvs-progress", max: "1", value: "0", "data-testid": "adapt-progress" });
    this.helpButton = button("?", "help-button", "every mouse and keyboard control (?)");
    bar.append(this.playButton, this.stemSelect, this.undoButton, this.redoButton);
    for (const [node] of this.regionButtons) bar.appendChild(node);
    bar.append(this.adaptButton, this.progress, this.legend(), this.helpButton);

    this.surface = element("div", { class: "ipysvs-surface" });
    this.canvas = element("canvas", { "data-testid": "f0-editor", tabindex: "0", class: "ipysvs-canvas" });
    this.canvas.style.height = `${HEIGHT}px`;
    this.canvas.ipysvsEditor = this;
    this.background = document.createElement("canvas");
    this.help = this.helpOverlay();
    this.surface.append(this.canvas, this.help);
    this.statusLine = element("div", { class: "ipysvs-status", "data-testid": "editor-status" });
    this.errorLine = element("div", { class: "ipysvs-error-line", "data-testid": "editor-error" });
    this.root.append(bar, this.surface, this.statusLine, this.errorLine);
  }

  legend() {
    const legend = element("span", { class: "ipysvs-legend" });
    for (const [label, colour] of [
      ["estimated", `rgb(${COLOURS.estimated})`],
      ["corrected", COLOURS.corrected],
      ["F0 saliency (shading)", COLOURS.salience],
      ["playhead", COLOURS.playhead],
    ]) {
      const swatch = element("i");
      swatch.style.background = colour;
      legend.append(swatch, document.createTextNode(label));
    }
    return legend;
  }

  helpOverlay() {
    const overlay = element("div", { class: "ipysvs-help", "data-testid": "help-overlay", hidden: "" });
    overlay.appendChild(element("h4", {}, "F0 editor controls"));
    const table = (rows) => {
      const node = element("table");
      for (const [gesture, description] of rows) {
        const row = element("tr");
        row.append(element("th", {}, gesture), element("td", {}, description));
        node.appendChild(row);
      }
      return node;
    };
    const keys = KEY_CONTROLS.filter((c, i) => KEY_CONTROLS.findIndex((d) => d.keys === c.keys) === i);
    const mouse = element("div");
    mouse.append(
      table(MOUSE_CONTROLS),
      element("p", {}, "Yellow F0 = your corrections; blue = the model's estimate (fainter = less confident); orange shading = F0 saliency."),
      element("p", {}, "The keys work with the pointer over the editor or after a click on it. Ctrl+S, Shift+Enter and Escape stay the notebook's. Press ? or Escape to close."),
    );
    const columns = element("div", { class: "ipysvs-help-columns" });
    columns.append(mouse, table(keys.map((c) => [c.keys, c.description])));
    overlay.appendChild(columns);
    return overlay;
  }

  plotArea(width) {
    return {
      left: MARGIN.left,
      top: MARGIN.top,
      width: Math.max(width - MARGIN.left - MARGIN.right, 50),
      height: HEIGHT - MARGIN.top - MARGIN.bottom,
    };
  }

  // ------------------------------------------------------------------ kernel state
  readSong() {
    const model = this.model;
    this.frameTimes = asTyped(model.get("frame_times"), Float64Array);
    this.beats = asTyped(model.get("beats"), Float64Array);
    this.duration = model.get("duration");
    this.grid = pitchGrid(model.get("pitch_grid"));
    this.spectrogram = asBytes(model.get("spectrogram"));
    this.readSalience();
  }

  readSalience() {
    this.salience = asBytes(this.model.get("salience"));
    this.tiles = null;
    this.backgroundDirty = true;
  }

  /** A mutable copy of the kernel's trajectory (local previews change it until the next sync). */
  readTrajectory() {
    const model = this.model;
    this.trajectory = {
      frameTimes: this.frameTimes,
      hz: new Float32Array(asTyped(model.get("hz"), Float32Array)),
      corrected: new Uint8Array(asBytes(model.get("corrected"))),
      confidence: asBytes(model.get("confidence")),
      activity: asTyped(model.get("activity"), Int8Array),
    };
    this.invalidate();
  }

  listen() {
    const model = this.model;
    model.on("change:revision", () => this.readTrajectory());
    model.on("change:salience", () => this.readSalience());
    for (const name of ["can_undo", "can_redo", "busy", "progress", "phase", "error"]) model.on(`change:${name}`, () => this.syncControls());
    model.on("msg:custom", (content, buffers) => this.onMessage(content, buffers));
    this.canvas.addEventListener("pointerdown", (e) => this.pointerDown(e));
    this.canvas.addEventListener("pointermove", (e) => this.pointerMove(e));
    this.canvas.addEventListener("pointerup", (e) => this.pointerUp(e));
    this.canvas.addEventListener("contextmenu", (e) => {
      e.preventDefault(); // the right button deletes F0: no browser or notebook menu
      e.stopPropagation();
    });
    this.canvas.addEventListener("wheel", (e) => this.wheel(e), { passive: false });
    this.root.addEventListener("keydown", (e) => this.keyDown(e));
    // the editor's keys also work while the pointer is over it, before any click
    this.canvas.addEventListener("pointerenter", () => (this.hovered = true));
    this.canvas.addEventListener("pointerleave", () => (this.hovered = false));
    this.hoverKeys = (e) => {
      if (!this.hasKeyboard()) this.keyDown(e);
    };
    window.addEventListener("keydown", this.hoverKeys, true);
    this.undoButton.addEventListener("click", () => this.undo());
    this.redoButton.addEventListener("click", () => this.redo());
    this.adaptButton.addEventListener("click", () => this.adapt());
    this.playButton.addEventListener("click", () => this.togglePlay());
    this.helpButton.addEventListener("click", () => this.toggleHelp());
    for (const [node, command] of this.regionButtons) node.addEventListener("click", () => this[command]());
    this.resizeObserver = new ResizeObserver(() => this.resize());
    this.resizeObserver.observe(this.surface);
  }

  syncControls() {
    const model = this.model;
    const busy = model.get("busy");
    this.undoButton.disabled = busy || !model.get("can_undo");
    this.redoButton.disabled = busy || !model.get("can_redo");
    this.adaptButton.disabled = busy;
    // the button keeps its width while busy (the phase goes to the status line), so the toolbar never reflows
    this.adaptButton.textContent = busy ? "Updating…" : "Update DNN";
    this.progress.value = model.get("progress");
    this.progress.title = busy ? model.get("phase") : "";
    if (busy) this.statusLine.textContent = `Update DNN: ${model.get("phase")}…`;
    for (const [node] of this.regionButtons) node.disabled = busy || this.selection === null;
    this.errorLine.textContent = model.get("error");
  }

  onMessage(content, buffers) {
    if (content.kind === "ack") {
      const settled = this.requests.settle(content);
      if (settled === null) return;
      if (!settled.ok) this.readTrajectory(); // drop the refused edit's preview
      this.statusLine.textContent = settled.ok
        ? `${settled.action}: done, round trip ${settled.ms.toFixed(0)} ms`
        : `${settled.action}: refused: ${settled.error}`;
    } else if (content.kind === "audio") {
      this.startAudio(content, buffers[0]);
    }
  }

  // ------------------------------------------------------------------ drawing
  resize() {
    const width = Math.max(this.surface.clientWidth, 200);
    const ratio = window.devicePixelRatio || 1;
    for (const canvas of [this.canvas, this.background]) {
      canvas.width = Math.round(width * ratio);
      canvas.height = Math.round(HEIGHT * ratio);
    }
    this.view = { ...this.view, ...this.plotArea(width) };
    this.backgroundDirty = true;
    this.invalidate();
  }

  invalidate() {
    if (this.frameRequested) return;
    this.frameRequested = true;
    requestAnimationFrame(() => this.frame());
  }

  frame() {
    this.frameRequested = false;
    const started = performance.now();
    const ratio = this.canvas.width / Math.max(this.canvas.clientWidth, 1) || 1;
    if (this.tiles === null) {
      const frames = this.frameTimes.length;
      const makeCanvas = (w, h) => Object.assign(document.createElement("canvas"), { width: w, height: h });
      this.tiles = buildTiles(
        this.spectrogram,
        this.showSalience ? this.salience : null,
        frames,
        this.grid.nBins,
        makeCanvas,
      );
    }
    if (this.backgroundDirty) {
      const bg = this.background.getContext("2d");
      bg.setTransform(ratio, 0, 0, ratio, 0, 0);
      drawBackground(bg, this.view, { frameTimes: this.frameTimes, tiles: this.tiles, beats: this.beats });
      this.backgroundDirty = false;
    }
    const ctx = this.canvas.getContext("2d");
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.drawImage(this.background, 0, 0);
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    drawForeground(ctx, this.view, {
      trajectory: this.trajectory,
      selection: this.selection,
      erase: this.drag?.mode === "erase" ? spanOf(this.drag.start, this.drag.now, this.duration) : null,
      stroke: this.drag?.mode === "draw" ? this.drag.stroke : null,
      playhead: this.playhead,
    });
    pushSample(this.stats.frameMs, performance.now() - started);
    if (this.audio !== null && !this.audio.element.paused) this.followPlayback();
  }

  setView(view) {
    this.view = view;
    this.backgroundDirty = true;
    this.invalidate();
    this.shareTimeRange();
  }

  /** Tell the kernel the visible time range (the Bokeh views follow it), once the view rests. */
  shareTimeRange() {
    clearTimeout(this.rangeTimer);
    this.rangeTimer = setTimeout(() => {
      const range = [this.view.t0, this.view.t1];
      const shared = this.model.get("time_range");
      if (shared.length === 2 && shared[0] === range[0] && shared[1] === range[1]) return;
      this.model.set("time_range", range);
      this.model.save_changes();
    }, RANGE_SYNC_MS);
  }

  // ------------------------------------------------------------------ mouse
  position(event) {
    const box = this.canvas.getBoundingClientRect();
    const x = event.clientX - box.left;
    const y = event.clientY - box.top;
    return { x, y, t: xToTime(this.view, x), bin: yToBin(this.view, y), hz: yToHz(this.view, y) };
  }

  pointerDown(event) {
    this.canvas.focus({ preventScroll: true });
    const at = this.position(event);
    const inAxis = at.y > this.view.top + this.view.height;
    let mode = "draw";
    if (event.button === 1 || (event.button === 0 && event.altKey)) mode = "pan";
    else if (event.button === 2) mode = "erase";
    else if (event.button === 0 && inAxis) mode = "seek";
    else if (event.button === 0 && event.shiftKey) mode = "select";
    else if (event.button !== 0 || this.model.get("busy")) return;
    event.preventDefault();
    this.canvas.setPointerCapture(event.pointerId);
    this.drag = { mode, start: at.t, now: at.t, x: at.x, y: at.y, view: this.view, stroke: null };
    if (mode === "draw") {
      this.drag.stroke = new Stroke(this.frameTimes);
      this.drag.stroke.add(at.t, at.hz);
    } else if (mode === "select") {
      this.selection = null;
    } else if (mode === "seek") {
      this.seek(at.t);
    }
    this.invalidate();
  }

  pointerMove(event) {
    if (this.drag === null) return;
    const at = this.position(event);
    const drag = this.drag;
    drag.now = Math.min(Math.max(at.t, 0), this.duration);
    if (drag.mode === "draw") {
      drag.stroke.add(drag.now, at.hz);
    } else if (drag.mode === "select") {
      this.selection = spanOf(drag.start, drag.now, this.duration);
    } else if (drag.mode === "pan") {
      const dt = ((drag.x - at.x) / drag.view.width) * (drag.view.t1 - drag.view.t0);
      const db = ((at.y - drag.y) / drag.view.height) * (drag.view.b1 - drag.view.b0);
      this.setView(panView(drag.view, dt, db, this.duration));
    } else if (drag.mode === "seek") {
      this.seek(drag.now);
    }
    this.invalidate();
  }

  pointerUp(event) {
    const drag = this.drag;
    if (drag === null) return;
    this.drag = null;
    this.canvas.releasePointerCapture(event.pointerId);
    if (drag.mode === "draw") this.commitStroke(drag.stroke);
    else if (drag.mode === "erase") this.commitSpan("unvoice", spanOf(drag.start, drag.now, this.duration));
    this.syncControls();
    this.invalidate();
  }

  wheel(event) {
    event.preventDefault();
    const at = this.position(event);
    const factor = WHEEL_ZOOM ** event.deltaY;
    const pitch = event.ctrlKey || event.metaKey;
    this.setView(zoomView(this.view, factor, pitch ? at.bin : at.t, this.duration, pitch ? "pitch" : "time"));
  }

  // ------------------------------------------------------------------ edits
  commitStroke(stroke) {
    if (stroke.size < 2) {
      this.statusLine.textContent = "draw: drag across at least two frames";
      return;
    }
    const points = stroke.points();
    applyDraw(this.trajectory, points.times, points.hz);
    const { fields, buffers } = drawPayload(points);
    this.requests.request("draw", fields, buffers);
  }

  commitSpan(action, [t0, t1], fields = {}) {
    if (!(t1 > t0)) return;
    if (action === "unvoice") applyUnvoice(this.trajectory, t0, t1);
    if (action === "shift_octave") applyShift(this.trajectory, t0, t1, fields.octaves);
    this.requests.request(action, { t0, t1, ...fields });
    this.invalidate();
  }

  regionCommand(action, fields = {}) {
    if (this.selection === null) {
      this.statusLine.textContent = "select a region first (Shift + drag)";
      return;
    }
    this.commitSpan(action, this.selection, fields);
  }

  undo() {
    this.requests.request("undo");
  }

  redo() {
    this.requests.request("redo");
  }

  octaveUp() {
    this.regionCommand("shift_octave", { octaves: 1 });
  }

  octaveDown() {
    this.regionCommand("shift_octave", { octaves: -1 });
  }

  snap() {
    this.regionCommand("snap");
  }

  unvoice() {
    this.regionCommand("unvoice");
  }

  markVocal() {
    this.regionCommand("activity", { vocal: true });
  }

  markSilent() {
    this.regionCommand("activity", { vocal: false });
  }

  adapt() {
    this.statusLine.textContent = "Update DNN: fine-tuning on your corrections…";
    this.requests.request("adapt");
  }

  // ------------------------------------------------------------------ view and keys
  clearSelection() {
    this.selection = null;
    this.help.hidden = true;
    this.syncControls();
    this.invalidate();
  }

  zoomKey(event) {
    const centre = (this.view.t0 + this.view.t1) / 2;
    this.setView(zoomView(this.view, event.key === "-" ? 1.5 : 1 / 1.5, centre, this.duration));
  }

  panKey(event) {
    const dt = (this.view.t1 - this.view.t0) * 0.2;
    const db = (this.view.b1 - this.view.b0) * 0.2;
    const moves = { ArrowLeft: [-dt, 0], ArrowRight: [dt, 0], ArrowUp: [0, db], ArrowDown: [0, -db] };
    this.setView(panView(this.view, ...moves[event.key], this.duration));
  }

  resetView() {
    this.setView(fullView(this.duration, this.plotArea(this.surface.clientWidth), this.grid));
  }

  toggleSalience() {
    this.showSalience = !this.showSalience;
    this.tiles = null;
    this.backgroundDirty = true;
    this.invalidate();
  }

  toggleHelp() {
    this.help.hidden = !this.help.hidden;
  }

  /** Whether the keyboard focus is inside the editor. */
  hasKeyboard() {
    return this.root.contains(document.activeElement);
  }

  /** Route a keydown (js/src/keys.js keyRoute): the editor's command, the notebook's, or nobody's. */
  keyDown(event) {
    const focused = this.hasKeyboard();
    const route = keyRoute(event, {
      focused,
      hovered: this.hovered,
      typing: isTextField(document.activeElement),
      escapable: this.selection !== null || !this.help.hidden,
    });
    if (route === "editor") {
      event.preventDefault();
      event.stopPropagation();
      this[keyCommand(event).command](event);
    } else if (route === "none") {
      event.stopPropagation();
    } else if (focused && event.key === "Escape") {
      this.leaveKeyboard(); // Escape hands the keyboard back: the notebook's command mode keys work again
    }
  }

  /** Give the keyboard back to the notebook the editor sits in (or to the page). */
  leaveKeyboard() {
    const notebook = this.root.closest(".jp-Notebook");
    this.canvas.blur();
    if (notebook !== null) notebook.focus({ preventScroll: true });
  }

  // ------------------------------------------------------------------ playback
  togglePlay() {
    const key = `${this.stemSelect.value}@${this.model.get("outputs_revision")}`;
    if (this.audio !== null && this.audio.key === key) {
      if (this.audio.element.paused) this.audio.element.play();
      else this.audio.element.pause();
      this.syncPlayButton();
      return;
    }
    this.statusLine.textContent = `loading ${this.stemSelect.value}…`;
    this.requests.request("audio", { stem: this.stemSelect.value });
    this.pendingAudioKey = key;
  }

  startAudio(content, buffer) {
    this.stopAudio();
    const bytes = asBytes(buffer);
    const url = URL.createObjectURL(new Blob([bytes], { type: content.mimetype ?? "audio/ogg" }));
    const audio = new Audio(url);
    audio.addEventListener("pause", () => this.syncPlayButton());
    audio.addEventListener("play", () => this.syncPlayButton());
    this.audio = { key: this.pendingAudioKey, element: audio, url };
    if (this.playhead !== null) audio.currentTime = this.playhead;
    audio.play().catch((error) => {
      this.statusLine.textContent = `cannot play ${content.stem}: ${error.message}`;
    });
    this.invalidate();
  }

  stopAudio() {
    if (this.audio === null) return;
    this.audio.element.pause();
    URL.revokeObjectURL(this.audio.url);
    this.audio = null;
  }

  syncPlayButton() {
    const playing = this.audio !== null && !this.audio.element.paused;
    this.playButton.textContent = playing ? "❚❚ Pause" : "▶ Play";
    this.invalidate();
  }

  /** Move the playhead with the audio, scrolling the view to keep it visible. */
  followPlayback() {
    const t = this.audio.element.currentTime;
    this.playhead = t;
    const span = this.view.t1 - this.view.t0;
    if (t > this.view.t1 || t < this.view.t0) this.setView(panView(this.view, t - this.view.t0 - 0.1 * span, 0, this.duration));
    this.invalidate();
  }

  seek(t) {
    this.playhead = t;
    if (this.audio !== null) this.audio.element.currentTime = t;
  }

  /** Timing figures for benchmarks: frame render and edit round trip, in ms. */
  latency() {
    return { frame: summary(this.stats.frameMs), roundTrip: summary(this.stats.roundTripMs) };
  }

  destroy() {
    clearTimeout(this.rangeTimer);
    window.removeEventListener("keydown", this.hoverKeys, true);
    this.resizeObserver.disconnect();
    this.stopAudio();
  }
}

/** Whether ``node`` takes typed text (an input, a text area, a code cell's editor). */
function isTextField(node) {
  if (node === null) return false;
  return node.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(node.tagName);
}

function renderError(el, error) {
  const box = element("div", { class: "ipysvs-error-box", "data-testid": "editor-load-error" });
  box.textContent = `The ipysvs F0 editor could not start in this browser: ${error?.message ?? error}. The Session still works from code (s.set_f0, s.draw, s.unvoice, s.adapt).`;
  el.appendChild(box);
}

function render({ model, el }) {
  try {
    const editor = new Editor(model, el);
    return () => editor.destroy();
  } catch (error) {
    renderError(el, error);
    return undefined;
  }
}

export default { render };
