// Geometry of the F0 editor: the view (a time span in seconds x a pitch span in saliency bins) and the
// conversions between seconds / Hz and canvas pixels. The pitch grid is the kernel's (ipysvs.f0), sent
// as the synced `pitch_grid` {fmin_hz, bins_per_octave, n_bins}: nothing here hard-codes it.

export const MIN_SPAN_S = 0.25;
export const MIN_SPAN_BINS = 24;
const NOTE_NAMES = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"];

/**
 * The saliency grid from the kernel's `pitch_grid`: `nBins` bins, `binsPerOctave` to the octave, bin 0
 * at `fminHz`; `hzToBin(hz)` gives a fractional bin (hz > 0), `binToHz(bin)` its inverse.
 */
export function pitchGrid(spec) {
  const fminHz = Number(spec?.fmin_hz);
  const binsPerOctave = Number(spec?.bins_per_octave);
  const nBins = Number(spec?.n_bins);
  if (!(fminHz > 0 && binsPerOctave > 0 && Number.isInteger(nBins) && nBins > 0)) {
    throw new Error(`ipysvs: invalid pitch grid ${JSON.stringify(spec)}`);
  }
  return Object.freeze({
    fminHz,
    binsPerOctave,
    nBins,
    hzToBin: (hz) => binsPerOctave * Math.log2(hz / fminHz),
    binToHz: (bin) => fminHz * 2 ** (bin / binsPerOctave),
  });
}

/**
 * A view of the song: seconds [t0, t1] across the plot, bins [b0, b1] bottom to top, drawn in a plot
 * area of `width` x `height` CSS pixels starting `left` pixels from the canvas's left edge.
 */
export function fullView(duration, plot, grid) {
  return { t0: 0, t1: duration, b0: 0, b1: grid.nBins, grid, ...plot };
}

export function timeToX(view, t) {
  return view.left + ((t - view.t0) / (view.t1 - view.t0)) * view.width;
}

export function xToTime(view, x) {
  return view.t0 + ((x - view.left) / view.width) * (view.t1 - view.t0);
}

export function binToY(view, bin) {
  return view.top + (1 - (bin - view.b0) / (view.b1 - view.b0)) * view.height;
}

export function yToBin(view, y) {
  return view.b0 + (1 - (y - view.top) / view.height) * (view.b1 - view.b0);
}

export function hzToY(view, hz) {
  return binToY(view, view.grid.hzToBin(hz));
}

export function yToHz(view, y) {
  return view.grid.binToHz(yToBin(view, y));
}

/** Keep a span of `length` inside [lo, hi] (and no longer than it). */
function clampSpan(start, length, lo, hi) {
  const size = Math.min(length, hi - lo);
  const begin = Math.min(Math.max(start, lo), hi - size);
  return [begin, begin + size];
}

/** The view moved so that it lies inside the song and the pitch grid, spans kept when they fit. */
export function clampView(view, duration) {
  const [t0, t1] = clampSpan(view.t0, Math.max(view.t1 - view.t0, Math.min(MIN_SPAN_S, duration)), 0, duration);
  const [b0, b1] = clampSpan(view.b0, Math.max(view.b1 - view.b0, MIN_SPAN_BINS), 0, view.grid.nBins);
  return { ...view, t0, t1, b0, b1 };
}

/**
 * Zoom by `factor` (< 1 zooms in) around the anchor time `at` (s) on the time axis, or around the
 * anchor bin on the pitch axis when `axis` is "pitch".
 */
export function zoomView(view, factor, at, duration, axis = "time") {
  if (axis === "pitch") {
    const b0 = at - (at - view.b0) * factor;
    const b1 = at + (view.b1 - at) * factor;
    return clampView({ ...view, b0, b1 }, duration);
  }
  const t0 = at - (at - view.t0) * factor;
  const t1 = at + (view.t1 - at) * factor;
  return clampView({ ...view, t0, t1 }, duration);
}

/** Move the view by `dt` seconds and `db` bins. */
export function panView(view, dt, db, duration) {
  return clampView({ ...view, t0: view.t0 + dt, t1: view.t1 + dt, b0: view.b0 + db, b1: view.b1 + db }, duration);
}

/** Index of the first value >= t in the increasing array `values`. */
export function lowerBound(values, t) {
  let lo = 0;
  let hi = values.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (values[mid] < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index of the frame nearest to time t. */
export function nearestFrame(frameTimes, t) {
  const i = lowerBound(frameTimes, t);
  if (i === 0) return 0;
  if (i === frameTimes.length) return frameTimes.length - 1;
  return t - frameTimes[i - 1] <= frameTimes[i] - t ? i - 1 : i;
}

/** Frames [i0, i1) whose times lie in [t0, t1], widened by one on each side for continuous lines. */
export function visibleFrames(frameTimes, t0, t1) {
  const i0 = Math.max(lowerBound(frameTimes, t0) - 1, 0);
  const i1 = Math.min(lowerBound(frameTimes, t1) + 1, frameTimes.length);
  return [i0, i1];
}

/** Scientific pitch name of a MIDI note (60 -> "C4"). */
export function noteName(midi) {
  return `${NOTE_NAMES[midi % 12]}${Math.floor(midi / 12) - 1}`;
}

/**
 * Note-name grid lines between bins b0 and b1 of `grid`: every C and A, as in the paper's editor, plus
 * every other semitone (unlabelled) once a semitone is at least `minPixels` tall.
 * Returns [{bin, name, strong}] in ascending order; `name` is "" for unlabelled lines.
 */
export function noteLines(grid, b0, b1, pixelsPerBin, minPixels = 10) {
  const midi0 = Math.ceil(69 + 12 * Math.log2(grid.binToHz(b0) / 440));
  const midi1 = Math.floor(69 + 12 * Math.log2(grid.binToHz(b1) / 440));
  const everySemitone = pixelsPerBin * (grid.binsPerOctave / 12) >= minPixels;
  const lines = [];
  for (let midi = midi0; midi <= midi1; midi++) {
    const pc = midi % 12;
    const named = pc === 0 || pc === 9;
    if (!named && !everySemitone) continue;
    const bin = grid.hzToBin(440 * 2 ** ((midi - 69) / 12));
    lines.push({ bin, name: named ? noteName(midi) : "", strong: pc === 0 });
  }
  return lines;
}

/** Tick times (s) for an axis showing [t0, t1] over `pixels`, about one label per 80 px. */
export function timeTicks(t0, t1, pixels) {
  const wanted = (t1 - t0) / Math.max(pixels / 80, 1);
  const steps = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600];
  const step = steps.find((s) => s >= wanted) ?? steps[steps.length - 1];
  const ticks = [];
  for (let k = Math.ceil(t0 / step); k * step <= t1 + 1e-9; k++) ticks.push(Number((k * step).toFixed(6)));
  return { step, ticks };
}

/** A tick label: seconds with as many decimals as the step needs, m:ss past a minute. */
/** The time axis's title: its labels read seconds, or minutes:seconds once a tick passes a minute. */
export function timeAxisTitle(ticks) {
  return ticks.some((t) => t >= 60) ? "time (m:ss)" : "time (s)";
}

export function formatTime(t, step) {
  const decimals = step >= 1 ? 0 : step >= 0.1 ? 1 : 2;
  if (t < 60) return t.toFixed(decimals);
  const minutes = Math.floor(t / 60);
  const seconds = (t - 60 * minutes).toFixed(decimals).padStart(decimals ? 3 + decimals : 2, "0");
  return `${minutes}:${seconds}`;
}
