// The wire between the editor and the kernel. Requests are custom widget messages
// {id, action, ...fields} whose bulk data travels as binary buffers; the kernel answers each with
// {kind: "ack", id, ok, error} after the Session changed (or refused), so the browser can time the
// round trip. Typed arrays received from the kernel arrive as DataView / ArrayBuffer.

/**
 * The editor's synced model, typed once: name -> [type, meaning]. The kernel's side is F0Editor's traits
 * (ipysvs/widgets/editor.py); tests/test_widgets.py checks that both name the same state with the same
 * types, and js/tests/protocol.test.js that the editor reads nothing else. "bytes" arrive as DataView.
 */
export const SYNCED_MODEL = Object.freeze({
  pitch_grid: ["object", "the saliency grid {fmin_hz, bins_per_octave, n_bins}"],
  frame_times: ["bytes", "float64 s (frames,)"],
  spectrogram: ["bytes", "uint8 (frames, n_bins) on the pitch grid"],
  salience: ["bytes", "uint8 (frames, n_bins) on the pitch grid"],
  beats: ["bytes", "float64 s"],
  duration: ["number", "s"],
  hz: ["bytes", "float32 Hz (frames,), 0 = unvoiced"],
  corrected: ["bytes", "uint8 (frames,) 1 = corrected"],
  confidence: ["bytes", "uint8 (frames,) 0..255"],
  activity: ["bytes", "int8 (frames,) 1 singing, -1 silent, 0 unmarked"],
  revision: ["integer", "bumped with every trajectory change"],
  outputs_revision: ["integer", "bumped by each adaptation"],
  can_undo: ["boolean", ""],
  can_redo: ["boolean", ""],
  busy: ["boolean", "an adaptation runs"],
  progress: ["number", "0..1 of the adaptation"],
  phase: ["string", "the adaptation's phase"],
  error: ["string", "the last refused request, empty when fine"],
  time_range: ["array", "[t0, t1] s the editor shows (set by the editor; the app's Bokeh views follow it)"],
});

/** A Uint8Array over a DataView, ArrayBuffer or typed array (no copy). */
export function asBytes(buffer) {
  if (buffer instanceof ArrayBuffer) return new Uint8Array(buffer);
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

/** A typed array of `Type` over received bytes (copied when they are not aligned). */
export function asTyped(buffer, Type) {
  const bytes = asBytes(buffer);
  if (bytes.byteOffset % Type.BYTES_PER_ELEMENT === 0) {
    return new Type(bytes.buffer, bytes.byteOffset, Math.floor(bytes.byteLength / Type.BYTES_PER_ELEMENT));
  }
  return new Type(bytes.slice().buffer);
}

/** A draw request's fields and buffers: times as float64 seconds, Hz as float32. */
export function drawPayload(points) {
  return { fields: { points: points.times.length }, buffers: [points.times.buffer, points.hz.buffer] };
}

/**
 * Numbered requests awaiting their acknowledgement. `send(content, buffers)` posts a message; `now()`
 * is the clock (performance.now in the browser). Round trips of settled requests are kept in
 * `roundTrips` (ms).
 */
export class Requests {
  constructor(send, now) {
    this.send = send;
    this.now = now;
    this.nextId = 1;
    this.pending = new Map(); // id -> {action, sent}
    this.roundTrips = [];
  }

  /** Send `action` with extra JSON `fields` and binary `buffers`; returns the request id. */
  request(action, fields = {}, buffers = []) {
    const id = this.nextId++;
    this.pending.set(id, { action, sent: this.now() });
    this.send({ ...fields, id, action }, buffers);
    return id;
  }

  /** Settle the request an ack names; returns {id, action, ms, ok, error} or null for unknown ids. */
  settle(ack) {
    const request = this.pending.get(ack.id);
    if (request === undefined) return null;
    this.pending.delete(ack.id);
    const ms = this.now() - request.sent;
    this.roundTrips.push(ms);
    return { id: ack.id, action: request.action, ms, ok: Boolean(ack.ok), error: ack.error ?? "" };
  }
}

/** Median and maximum of a list of numbers, {median, max, count}. */
export function summary(values) {
  if (values.length === 0) return { median: NaN, max: NaN, count: 0 };
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
  return { median, max: sorted[sorted.length - 1], count: sorted.length };
}
