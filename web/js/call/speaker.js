// Active-speaker detection from audio levels: one AnalyserNode per person,
// sampled a few times a second; the loudest person above a floor becomes the
// active speaker once they have been loudest for a moment (so a cough does
// not move the highlight).

const SAMPLE_MS = 150;
const FLOOR = 0.015;      // RMS below this is silence (fans, hiss)
const HOLD_SAMPLES = 3;   // loudest for this many samples in a row to take over
const SMOOTH = 0.6;       // exponential smoothing of the level

export class SpeakerDetector {
  // onChange(activeId | null, levels: Map(id → 0..1))
  constructor(onChange) {
    this.onChange = onChange;
    this.sources = new Map();  // id → { node, analyser, buf, level }
    this.muted = new Set();    // ids that said they are muted: never the speaker
    this.active = null;
    this.candidate = null;
    this.streak = 0;
    this.ctx = null;
    this.timer = 0;
  }

  // Needs a user gesture first in most browsers: call from a click handler.
  start() {
    if (!this.ctx) {
      const Ctx = window.AudioContext || window.webkitAudioContext;
      if (!Ctx) return;
      this.ctx = new Ctx();
    }
    this.ctx.resume?.().catch(() => {});
    if (!this.timer) this.timer = setInterval(() => this.sample(), SAMPLE_MS);
  }

  set(id, stream) {
    this.remove(id);
    if (!this.ctx || !stream || stream.getAudioTracks().length === 0) return;
    try {
      const node = this.ctx.createMediaStreamSource(stream);
      const analyser = this.ctx.createAnalyser();
      analyser.fftSize = 512;
      node.connect(analyser); // not to the destination: <video> elements play the sound
      this.sources.set(id, { node, analyser, buf: new Float32Array(analyser.fftSize), level: 0 });
    } catch (err) {
      console.warn('yoom call: no audio level for', id, err);
    }
  }

  remove(id) {
    const s = this.sources.get(id);
    if (!s) return;
    s.node.disconnect();
    this.sources.delete(id);
    if (this.active === id) this.active = null;
  }

  sample() {
    const muted = this.muted;
    const levels = new Map();
    let best = null;
    let bestLevel = FLOOR;
    for (const [id, s] of this.sources) {
      s.analyser.getFloatTimeDomainData(s.buf);
      let sum = 0;
      for (const v of s.buf) sum += v * v;
      const rms = Math.sqrt(sum / s.buf.length);
      s.level = SMOOTH * s.level + (1 - SMOOTH) * rms;
      const level = muted.has(id) ? 0 : s.level;
      levels.set(id, Math.min(1, level * 4));
      if (level > bestLevel) { best = id; bestLevel = level; }
    }
    if (best === this.candidate) this.streak++;
    else { this.candidate = best; this.streak = 1; }
    if (this.candidate !== null && this.candidate !== this.active && this.streak >= HOLD_SAMPLES) {
      this.active = this.candidate;
    }
    this.onChange(this.active, levels);
  }

  stop() {
    clearInterval(this.timer);
    this.timer = 0;
    for (const id of [...this.sources.keys()]) this.remove(id);
    this.ctx?.close().catch(() => {});
    this.ctx = null;
    this.active = null;
  }
}
