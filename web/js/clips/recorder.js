// The clip recorder of the composer: a "Clip" toggle; while it is on, a live
// preview of the camera shows above the message box, and sending a message
// first counts down (3, 2, 1) and then captures the clip like seed 000 did:
// 10 frames of 200x200, JPEG quality 0.4, 200 ms apart. Each frame is a
// canvas.toBlob() JPEG sent as an ArrayBuffer, i.e. a Socket.IO binary
// attachment of chat:send (not base64). The server turns them into a WebM.
import { $, el, setText } from '../dom.js';

export const CAPTURE = Object.freeze({ frames: 10, size: 200, quality: 0.4, intervalMs: 200, countdown: 3, countdownMs: 400 });

let stream = null;
let armed = false;
let busy = false;
let ui = null;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function ensureStyles() {
  if (document.querySelector('link[data-clips-css]')) return;
  document.head.append(el('link', { attrs: { rel: 'stylesheet', href: '/css/clips.css', 'data-clips-css': '' } }));
}

function setArmed(on) {
  armed = on;
  ui.button.setAttribute('aria-pressed', String(on));
  ui.panel.hidden = !on;
  if (!on) stopCamera();
}

async function startCamera() {
  if (stream) return stream;
  stream = await navigator.mediaDevices.getUserMedia({
    video: { width: { ideal: 320 }, height: { ideal: 240 }, facingMode: 'user' }, audio: false,
  });
  ui.video.srcObject = stream;
  await ui.video.play().catch(() => {});
  return stream;
}

function stopCamera() {
  if (stream) for (const t of stream.getTracks()) t.stop();
  stream = null;
  if (ui) ui.video.srcObject = null;
}

// One frame: the centre square of the camera image, scaled to size x size.
function grab(ctx, video, size) {
  const w = video.videoWidth;
  const h = video.videoHeight;
  const side = Math.min(w, h);
  ctx.drawImage(video, (w - side) / 2, (h - side) / 2, side, side, 0, 0, size, size);
  return new Promise((resolve, reject) => ctx.canvas.toBlob(
    (b) => (b ? resolve(b.arrayBuffer()) : reject(new Error('The camera image could not be encoded.'))),
    'image/jpeg', CAPTURE.quality));
}

async function waitForVideo(video) {
  for (let i = 0; i < 50 && (video.readyState < 2 || !video.videoWidth); i++) await sleep(100);
  if (!video.videoWidth) throw new Error('The camera shows no picture.');
}

export function clipArmed() { return armed; }

// Called on send: null when the recorder is off, else the frames
// (ArrayBuffer[]) after the countdown and the capture.
export async function captureClip() {
  if (!armed) return null;
  if (busy) throw new Error('A clip is being recorded.');
  busy = true;
  ui.panel.dataset.state = 'countdown';
  setText(ui.status, 'Get ready…');
  try {
    await startCamera();
    await waitForVideo(ui.video);
    for (let n = CAPTURE.countdown; n > 0; n--) {
      setText(ui.count, n);
      await sleep(CAPTURE.countdownMs);
    }
    setText(ui.count, '');
    ui.panel.dataset.state = 'recording';
    setText(ui.status, 'Recording…');
    const canvas = el('canvas', { attrs: { width: CAPTURE.size, height: CAPTURE.size } });
    const ctx = canvas.getContext('2d');
    const frames = [];
    for (let i = 0; i < CAPTURE.frames; i++) {
      const t0 = performance.now();
      frames.push(await grab(ctx, ui.video, CAPTURE.size));
      if (i + 1 < CAPTURE.frames) await sleep(Math.max(0, CAPTURE.intervalMs - (performance.now() - t0)));
    }
    return frames;
  } finally {
    busy = false;
    ui.panel.dataset.state = 'ready';
    setText(ui.count, '');
    setText(ui.status, 'Your next message carries a clip.');
  }
}

// Adds the Clip toggle to the composer and the preview above it. Idempotent.
export function initRecorder({ form = $('#chat-form'), sendButton = $('#send-button'), onError = () => {} } = {}) {
  if (ui) return;
  ensureStyles();
  const video = el('video', { class: 'clip-live', attrs: { muted: '', playsinline: '', autoplay: '', 'aria-label': 'Camera preview' } });
  video.muted = true;
  const count = el('span', { class: 'clip-count', attrs: { 'aria-live': 'assertive' } });
  const status = el('p', { class: 'clip-status', text: 'Your next message carries a clip.', attrs: { role: 'status' } });
  const panel = el('div', { class: 'clip-preview', attrs: { id: 'clip-preview' }, data: { state: 'ready' } },
    el('div', { class: 'clip-frame' }, video, count), status);
  panel.hidden = true;
  const button = el('button', {
    class: 'btn clip-button',
    attrs: { type: 'button', id: 'clip-button', 'aria-pressed': 'false', 'aria-controls': 'clip-preview',
      title: 'Record a short clip with your next message' },
  }, el('span', { class: 'clip-dot', attrs: { 'aria-hidden': 'true' } }), 'Clip');
  ui = { button, panel, video, count, status };
  form.before(panel);
  form.insertBefore(button, sendButton);
  button.addEventListener('click', async () => {
    if (busy) return;
    if (armed) { setArmed(false); return; }
    setArmed(true);
    try {
      await startCamera();
    } catch (err) {
      setArmed(false);
      onError(err?.name === 'NotAllowedError' ? 'Camera access was refused.' : `No camera: ${err?.message || err}`);
    }
  });
}

// Turns the recorder off and releases the camera (leaving a room).
export function resetRecorder() {
  if (ui && !busy) setArmed(false);
}
