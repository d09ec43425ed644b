// Edit logic of the F0 editor: collecting a mouse stroke at frame resolution and applying edits locally
// (an optimistic preview, identical to ipysvs.edits) until the kernel's trajectory arrives.

import { lowerBound, nearestFrame } from "./geometry.js";

/**
 * A free-hand stroke: one Hz value per frame it passes over (the latest wins when the pointer goes
 * back), frames between two pointer events filled linearly in log frequency.
 */
export class Stroke {
  constructor(frameTimes) {
    this.frameTimes = frameTimes;
    this.values = new Map(); // frame index -> Hz
    this.last = null; // [frame, Hz] of the previous pointer event
  }

  /** Add the pointer position (t seconds, hz > 0). */
  add(t, hz) {
    const frame = nearestFrame(this.frameTimes, t);
    if (this.last === null) {
      this.values.set(frame, hz);
    } else {
      const [from, fromHz] = this.last;
      const count = Math.abs(frame - from);
      for (let k = 1; k <= count; k++) {
        const fraction = k / count;
        const value = 2 ** (Math.log2(fromHz) + fraction * (Math.log2(hz) - Math.log2(fromHz)));
        this.values.set(from + Math.sign(frame - from) * k, value);
      }
      if (count === 0) this.values.set(frame, hz);
    }
    this.last = [frame, hz];
  }

  get size() {
    return this.values.size;
  }

  /** The stroke as increasing frame times (Float64Array, s) and Hz (Float32Array). */
  points() {
    const frames = [...this.values.keys()].sort((a, b) => a - b);
    const times = Float64Array.from(frames, (f) => this.frameTimes[f]);
    const hz = Float32Array.from(frames, (f) => this.values.get(f));
    return { times, hz };
  }
}

/** A time span [t0, t1) from two drag ends, clipped to the song. */
export function spanOf(ta, tb, duration) {
  const t0 = Math.max(Math.min(ta, tb), 0);
  const t1 = Math.min(Math.max(ta, tb), duration);
  return [t0, t1];
}

/** Frames i with t0 <= frameTimes[i] < t1 (or <= t1 when `inclusive`), as [i0, i1). */
function coveredFrames(frameTimes, t0, t1, inclusive = false) {
  const i0 = lowerBound(frameTimes, t0);
  let i1 = i0;
  while (i1 < frameTimes.length && (inclusive ? frameTimes[i1] <= t1 : frameTimes[i1] < t1)) i1++;
  return [i0, i1];
}

/**
 * numpy.interp over (xs, ys) for increasing query points: returns f(x), clamped at the ends, that
 * walks the table once however many points are asked.
 */
function monotonicInterp(xs, ys) {
  let i = 1;
  return (x) => {
    if (x <= xs[0]) return ys[0];
    if (x >= xs[xs.length - 1]) return ys[ys.length - 1];
    while (xs[i] < x) i++;
    const fraction = (x - xs[i - 1]) / (xs[i] - xs[i - 1]);
    return ys[i - 1] + fraction * (ys[i] - ys[i - 1]);
  };
}

/**
 * A stroke (times s, hz with 0 = unvoiced) applied to the trajectory in place, as ipysvs.edits.Draw:
 * frames from its first to its last point follow it, linear in log frequency between sung points.
 */
export function applyDraw(trajectory, times, hz) {
  const { frameTimes, hz: out, corrected } = trajectory;
  const [i0, i1] = coveredFrames(frameTimes, times[0], times[times.length - 1], true);
  const sungTimes = [];
  const sungLog = [];
  hz.forEach((v, k) => {
    if (v > 0) {
      sungTimes.push(times[k]);
      sungLog.push(Math.log2(v));
    }
  });
  const voicing = monotonicInterp(times, Array.from(hz, (v) => (v > 0 ? 1 : 0)));
  const logHz = sungTimes.length > 0 ? monotonicInterp(sungTimes, sungLog) : null;
  for (let i = i0; i < i1; i++) {
    const voiced = logHz !== null && voicing(frameTimes[i]) >= 0.5;
    out[i] = voiced ? 2 ** logHz(frameTimes[i]) : 0;
    corrected[i] = 1;
  }
}

/** Nobody sings in [t0, t1): F0 deleted there, in place (ipysvs.edits.Unvoice). */
export function applyUnvoice(trajectory, t0, t1) {
  const [i0, i1] = coveredFrames(trajectory.frameTimes, t0, t1);
  trajectory.hz.fill(0, i0, i1);
  trajectory.corrected.fill(1, i0, i1);
}

/** Voiced F0 in [t0, t1) moved by `octaves`, in place (ipysvs.edits.ShiftOctave). */
export function applyShift(trajectory, t0, t1, octaves) {
  const [i0, i1] = coveredFrames(trajectory.frameTimes, t0, t1);
  for (let i = i0; i < i1; i++) trajectory.hz[i] *= 2 ** octaves;
  trajectory.corrected.fill(1, i0, i1);
}
