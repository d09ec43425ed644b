// Drawing the F0 editor on a 2-D canvas: a cached background (spectrogram with saliency shading, beat
// and note grids, axes) redrawn only when the view changes, and a foreground (F0 trajectory, the stroke
// being drawn, selection, playhead) redrawn every animation frame while something moves.

import { binToY, formatTime, hzToY, noteLines, timeAxisTitle, timeToX, timeTicks, visibleFrames } from "./geometry.js";

export const COLOURS = {
  estimated: "47,208,255", // rgb of the model's F0; alpha follows its confidence
  corrected: "#ffd400",
  stroke: "#ffffff",
  erase: "rgba(255,60,60,0.30)",
  selection: "rgba(90,150,255,0.28)",
  playhead: "#39ff6a",
  beat: "rgba(255,255,255,0.16)",
  note: "rgba(255,255,255,0.22)",
  noteStrong: "rgba(255,255,255,0.45)",
  axis: "#c8c8c8",
  frame: "#1b1b1f",
  salience: "rgb(255,120,20)", // the shading's hue at full saliency (pixelColour)
  sung: "#3ddc84",
  silent: "#ff5050",
};
const TILE_FRAMES = 4096; // canvases wider than this are split (browsers cap canvas sizes)
const CONFIDENCE_LEVELS = 4;

/** RGBA of a spectrogram level (0..255) shaded by a saliency value (0..255). */
export function pixelColour(level, salience) {
  const v = level / 255;
  const base = [20 + 200 * v ** 1.4, 20 + 215 * v ** 1.2, 40 + 200 * v];
  const s = (salience / 255) * 0.75;
  return [base[0] * (1 - s) + 255 * s, base[1] * (1 - s) + 120 * s, base[2] * (1 - s) + 20 * s, 255];
}

/**
 * Canvases holding the whole background image, TILE_FRAMES frames each, top row = highest bin.
 * `spectrogram` and `salience` are (frames x nBins) uint8 row-major; salience may be null (no shading).
 */
export function buildTiles(spectrogram, salience, frames, nBins, makeCanvas) {
  const tiles = [];
  const lut = new Uint8ClampedArray(256 * 256 * 4);
  for (let level = 0; level < 256; level++) {
    for (let s = 0; s < 256; s++) lut.set(pixelColour(level, s), (level * 256 + s) * 4);
  }
  for (let first = 0; first < frames; first += TILE_FRAMES) {
    const width = Math.min(TILE_FRAMES, frames - first);
    const canvas = makeCanvas(width, nBins);
    const context = canvas.getContext("2d");
    const image = context.createImageData(width, nBins);
    for (let x = 0; x < width; x++) {
      const row = (first + x) * nBins;
      for (let bin = 0; bin < nBins; bin++) {
        const key = (spectrogram[row + bin] * 256 + (salience === null ? 0 : salience[row + bin])) * 4;
        const at = ((nBins - 1 - bin) * width + x) * 4;
        image.data[at] = lut[key];
        image.data[at + 1] = lut[key + 1];
        image.data[at + 2] = lut[key + 2];
        image.data[at + 3] = 255;
      }
    }
    context.putImageData(image, 0, 0);
    tiles.push({ first, width, canvas });
  }
  return tiles;
}

/** The background: image tiles, beat lines, note lines with labels, time axis. */
export function drawBackground(ctx, view, scene) {
  const { frameTimes, tiles, beats } = scene;
  ctx.fillStyle = COLOURS.frame;
  ctx.fillRect(0, 0, ctx.canvas.width, ctx.canvas.height);
  ctx.save();
  ctx.beginPath();
  ctx.rect(view.left, view.top, view.width, view.height);
  ctx.clip();
  const hop = frameTimes.length > 1 ? frameTimes[1] - frameTimes[0] : 1;
  const y0 = binToY(view, view.grid.nBins);
  const y1 = binToY(view, 0);
  ctx.imageSmoothingEnabled = view.t1 - view.t0 < 30;
  for (const tile of tiles) {
    const x0 = timeToX(view, frameTimes[tile.first] - hop / 2);
    const x1 = timeToX(view, frameTimes[tile.first] + (tile.width - 0.5) * hop);
    if (x1 < view.left || x0 > view.left + view.width) continue;
    ctx.drawImage(tile.canvas, x0, y0, x1 - x0, y1 - y0);
  }
  drawBeats(ctx, view, beats);
  drawNoteLines(ctx, view, false);
  ctx.restore();
  drawNoteLines(ctx, view, true);
  drawTimeAxis(ctx, view);
}

function drawBeats(ctx, view, beats) {
  const pixelsPerBeat = beats.length > 1 ? ((beats[1] - beats[0]) / (view.t1 - view.t0)) * view.width : 100;
  if (pixelsPerBeat < 4) return; // too dense to help
  ctx.strokeStyle = COLOURS.beat;
  ctx.lineWidth = 1;
  ctx.beginPath();
  for (const beat of beats) {
    if (beat < view.t0 || beat > view.t1) continue;
    const x = Math.round(timeToX(view, beat)) + 0.5;
    ctx.moveTo(x, view.top);
    ctx.lineTo(x, view.top + view.height);
  }
  ctx.stroke();
}

function drawNoteLines(ctx, view, labels) {
  const lines = noteLines(view.grid, view.b0, view.b1, view.height / (view.b1 - view.b0));
  ctx.font = "10px sans-serif";
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  for (const line of lines) {
    const y = Math.round(binToY(view, line.bin)) + 0.5;
    if (labels) {
      if (!line.name) continue;
      ctx.fillStyle = line.strong ? COLOURS.axis : "#8c8c8c";
      ctx.fillText(line.name, view.left - 4, y);
    } else {
      ctx.strokeStyle = line.strong ? COLOURS.noteStrong : COLOURS.note;
      ctx.setLineDash(line.name ? [] : [2, 4]);
      ctx.beginPath();
      ctx.moveTo(view.left, y);
      ctx.lineTo(view.left + view.width, y);
      ctx.stroke();
    }
  }
  ctx.setLineDash([]);
}

function drawTimeAxis(ctx, view) {
  const { step, ticks } = timeTicks(view.t0, view.t1, view.width);
  const y = view.top + view.height;
  ctx.strokeStyle = COLOURS.axis;
  ctx.fillStyle = COLOURS.axis;
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  ctx.beginPath();
  for (const t of ticks) {
    const x = Math.round(timeToX(view, t)) + 0.5;
    ctx.moveTo(x, y);
    ctx.lineTo(x, y + 4);
    const label = formatTime(t, step);
    const half = ctx.measureText(label).width / 2;
    ctx.fillText(label, Math.min(x, view.left + view.width + 6 - half), y + 5); // the last stays whole
  }
  ctx.stroke();
  ctx.textAlign = "right";
  ctx.fillText(timeAxisTitle(ticks), view.left - 4, y + 5);
}

/**
 * The trajectory's visible voiced frames as polylines grouped by style: "corrected" or "estimated-k"
 * (k = confidence level 0..3). At most about two points per pixel column are kept.
 * Returns Map(style -> array of polylines, each an array of frame indices).
 */
export function f0Polylines(trajectory, view) {
  const { frameTimes, hz, corrected, confidence } = trajectory;
  const [i0, i1] = visibleFrames(frameTimes, view.t0, view.t1);
  const step = Math.max(1, Math.floor((i1 - i0) / (2 * view.width)));
  const groups = new Map();
  let line = null;
  let lineStyle = "";
  for (let i = i0; i < i1; i += step) {
    if (!(hz[i] > 0)) {
      line = null;
      continue;
    }
    const level = Math.min(CONFIDENCE_LEVELS - 1, Math.floor((confidence[i] / 256) * CONFIDENCE_LEVELS));
    const style = corrected[i] ? "corrected" : `estimated-${level}`;
    if (line === null || style !== lineStyle) {
      const previous = line === null ? null : line[line.length - 1];
      const joined = previous !== null && (!corrected[i] === !corrected[previous] || nearPitch(hz[previous], hz[i]));
      line = joined ? [previous, i] : [i];
      lineStyle = style;
      if (!groups.has(style)) groups.set(style, []);
      groups.get(style).push(line);
    } else {
      line.push(i);
    }
  }
  return groups;
}

/** A line joins a correction to the estimate beside it only where they meet within this (cents):
 * a stroke drawn away from the estimate does not start with a vertical connector down to it. */
const JOIN_CENTS = 100;

function nearPitch(a, b) {
  return Math.abs(1200 * Math.log2(a / b)) < JOIN_CENTS;
}

/** Add a polyline through the points `indices` of (times s, hz) to the current path. */
function tracePolyline(ctx, view, times, hz, indices) {
  let first = true;
  for (const i of indices) {
    const x = timeToX(view, times[i]);
    const y = hzToY(view, hz[i]);
    if (first) ctx.moveTo(x, y);
    else ctx.lineTo(x, y);
    first = false;
  }
}

/** Runs of frames where `value(i)` is truthy as strips of `height` px at `y`, coloured by `colour(i)`. */
function drawRuns(ctx, view, frameTimes, value, colour, y, height) {
  const [i0, i1] = visibleFrames(frameTimes, view.t0, view.t1);
  let start = i0;
  for (let i = i0; i <= i1; i++) {
    if (i < i1 && value(i) === value(start)) continue;
    if (value(start)) {
      ctx.fillStyle = colour(start);
      const x0 = timeToX(view, frameTimes[start]);
      ctx.fillRect(x0, y, timeToX(view, frameTimes[i - 1]) - x0 + 1, height);
    }
    start = i;
  }
}

/** Activity marks along the top (green sung, red silent); corrected frames, deletions included, along
 * the bottom in the corrected colour. */
function drawMarks(ctx, view, trajectory) {
  const { frameTimes, activity, corrected } = trajectory;
  const sung = (i) => (activity[i] > 0 ? COLOURS.sung : COLOURS.silent);
  drawRuns(ctx, view, frameTimes, (i) => activity[i], sung, view.top, 5);
  const bottom = view.top + view.height - 5;
  drawRuns(ctx, view, frameTimes, (i) => corrected[i], () => COLOURS.corrected, bottom, 5);
}

/** The foreground: spans (selection, erase), F0 lines, the stroke in progress, the playhead. */
export function drawForeground(ctx, view, scene) {
  const { trajectory, selection, erase, stroke, playhead } = scene;
  ctx.save();
  ctx.beginPath();
  ctx.rect(view.left, view.top, view.width, view.height);
  ctx.clip();
  for (const [span, colour] of [
    [selection, COLOURS.selection],
    [erase, COLOURS.erase],
  ]) {
    if (span === null) continue;
    const x0 = timeToX(view, span[0]);
    ctx.fillStyle = colour;
    ctx.fillRect(x0, view.top, Math.max(timeToX(view, span[1]) - x0, 1), view.height);
  }
  drawMarks(ctx, view, trajectory);
  ctx.lineJoin = "round";
  for (const [style, lines] of f0Polylines(trajectory, view)) {
    const isCorrected = style === "corrected";
    const level = isCorrected ? 0 : Number(style.split("-")[1]);
    ctx.strokeStyle = isCorrected ? COLOURS.corrected : `rgba(${COLOURS.estimated},${0.35 + 0.65 * (level / (CONFIDENCE_LEVELS - 1))})`;
    ctx.lineWidth = isCorrected ? 3 : 2;
    ctx.beginPath();
    for (const indices of lines) tracePolyline(ctx, view, trajectory.frameTimes, trajectory.hz, indices);
    ctx.stroke();
  }
  if (stroke !== null && stroke.size > 0) {
    const { times, hz } = stroke.points();
    ctx.strokeStyle = COLOURS.stroke;
    ctx.lineWidth = 2;
    ctx.beginPath();
    tracePolyline(ctx, view, times, hz, times.keys());
    ctx.stroke();
  }
  if (playhead !== null && playhead >= view.t0 && playhead <= view.t1) {
    const x = Math.round(timeToX(view, playhead)) + 0.5;
    ctx.strokeStyle = COLOURS.playhead;
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.moveTo(x, view.top);
    ctx.lineTo(x, view.top + view.height);
    ctx.stroke();
  }
  ctx.restore();
}
