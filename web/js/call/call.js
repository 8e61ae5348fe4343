// The call in a room's stage: the pre-join screen (preview, pickers, a clear
// message when there is no camera or no permission), then the call itself:
// a mesh of peer connections (one per other member, see peer.js), the grid,
// the controls, active-speaker detection and the direct (P2P) panel.
// Signalling is yoom's call:* events (docs/PROTOCOL.md, "Calls (signalling)").
import { $, el, setText, toast } from '../dom.js';
import { socket, request } from '../socket.js';
import { icon } from './icons.js';
import { openLocalMedia, listDevices, cameraTrack, screenTrack, deviceOf, stopStream } from './media.js';
import { Peer } from './peer.js';
import { Grid } from './grid.js';
import { SpeakerDetector } from './speaker.js';
import { Direct } from './direct.js';

let S = null;   // the mounted call: { room, you, stage, ... } or null

const myId = () => socket.id;

// ---- ICE servers: yoom's own STUN (and TURN if configured), fetched at runtime ----
async function iceServers() {
  try {
    const res = await fetch('/api/ice-servers', { cache: 'no-store' });
    if (res.ok) return await res.json();
  } catch { /* offline: loopback and LAN calls still work with host candidates */ }
  return [];
}

// ---- pre-join ----

function option(d, selected) {
  const o = el('option', { text: d.label, attrs: { value: d.id } });
  o.selected = d.id === selected;
  return o;
}

async function fillPickers() {
  const { cameras, mics } = await listDevices();
  if (!S) return; // left the room meanwhile
  S.cameras = cameras;
  const cam = $('#call-camera', S.stage);
  const mic = $('#call-mic', S.stage);
  if (!cam || !mic) return;
  cam.replaceChildren(...(cameras.length ? cameras.map((d) => option(d, S.cameraId)) : [el('option', { text: 'No camera', attrs: { value: '' } })]));
  mic.replaceChildren(...(mics.length ? mics.map((d) => option(d, S.micId)) : [el('option', { text: 'No microphone', attrs: { value: '' } })]));
  cam.disabled = cameras.length === 0;
  mic.disabled = mics.length === 0;
}

async function openPreview() {
  if (!S) return;
  const token = (S.previewToken = (S.previewToken || 0) + 1);
  setText($('#call-notice', S.stage), 'Starting your camera…');
  const m = await openLocalMedia({ cameraId: S.cameraId, micId: S.micId });
  if (!S || token !== S.previewToken) { stopStream(m.stream); return; }
  stopStream(S.stream);
  S.stream = m.stream;
  S.audio = m.audio;
  S.video = m.video;
  S.hasAudio = m.audio;
  S.hasVideo = m.video;
  S.cameraId = deviceOf(m.stream.getVideoTracks()[0]) || S.cameraId;
  S.micId = deviceOf(m.stream.getAudioTracks()[0]) || S.micId;
  const preview = $('#call-preview', S.stage);
  preview.srcObject = m.stream;
  preview.play?.().catch(() => {});
  $('#call-prejoin', S.stage).classList.toggle('no-video', !m.video);
  const notice = $('#call-notice', S.stage);
  setText(notice, m.notice || 'Camera and microphone are ready.');
  notice.classList.toggle('warn', !!m.notice);
  const join = $('#call-join', S.stage);
  setText(join, m.audio || m.video ? 'Join call' : 'Join as viewer');
  join.disabled = false;
  renderPrejoinToggles();
  await fillPickers();
}

function renderPrejoinToggles() {
  const mic = $('#pre-mic', S.stage);
  const cam = $('#pre-cam', S.stage);
  if (!mic || !cam) return;
  mic.disabled = !S.hasAudio;
  cam.disabled = !S.hasVideo;
  setToggle(mic, S.audio, 'mic', 'micOff', 'Mute microphone', 'Unmute microphone');
  setToggle(cam, S.video, 'cam', 'camOff', 'Turn camera off', 'Turn camera on');
  for (const t of S.stream.getAudioTracks()) t.enabled = S.audio;
  for (const t of S.stream.getVideoTracks()) t.enabled = S.video;
  $('#call-prejoin', S.stage)?.classList.toggle('no-video', !(S.hasVideo && S.video));
}

function setToggle(btn, on, iconOn, iconOff, labelOn, labelOff) {
  btn.replaceChildren(icon(on ? iconOn : iconOff));
  btn.setAttribute('aria-pressed', String(!on));
  btn.setAttribute('aria-label', on ? labelOn : labelOff);
  btn.title = on ? labelOn : labelOff;
  btn.classList.toggle('off', !on);
}

function renderPrejoin() {
  const preview = el('video', { class: 'prejoin-video', attrs: { id: 'call-preview', autoplay: '', playsinline: '' } });
  preview.muted = true;
  const camSel = el('select', { attrs: { id: 'call-camera' } });
  const micSel = el('select', { attrs: { id: 'call-mic' } });
  camSel.addEventListener('change', () => { S.cameraId = camSel.value; openPreview(); });
  micSel.addEventListener('change', () => { S.micId = micSel.value; openPreview(); });
  const preMic = el('button', { class: 'round', attrs: { type: 'button', id: 'pre-mic' }, on: { click: () => { S.audio = !S.audio; renderPrejoinToggles(); } } });
  const preCam = el('button', { class: 'round', attrs: { type: 'button', id: 'pre-cam' }, on: { click: () => { S.video = !S.video; renderPrejoinToggles(); } } });
  const join = el('button', { class: 'btn primary call-join', text: 'Join call', attrs: { type: 'button', id: 'call-join', disabled: '' }, on: { click: joinCall } });
  const node = el('div', { class: 'call-prejoin', attrs: { id: 'call-prejoin' } },
    el('div', { class: 'prejoin-stage' },
      preview,
      el('div', { class: 'prejoin-face' }, el('span', { text: 'Camera off' })),
      el('div', { class: 'prejoin-toggles' }, preMic, preCam)),
    el('div', { class: 'prejoin-panel' },
      el('h2', { text: 'Ready to join?' }),
      el('p', { class: 'prejoin-notice', attrs: { id: 'call-notice', role: 'status', 'aria-live': 'polite' } }),
      el('label', { class: 'field' }, el('span', { text: 'Camera' }), camSel),
      el('label', { class: 'field' }, el('span', { text: 'Microphone' }), micSel),
      join,
      el('p', { class: 'prejoin-hint', text: 'Video goes directly between browsers; the server only introduces you.' })));
  S.stage.replaceChildren(node);
}

// ---- in the call ----

function tellState() {
  if (!S?.inCall) return;
  request('call:state', { room: S.room, audio: S.audio && S.hasAudio, video: S.video && S.hasVideo, screen: !!S.screen })
    .catch(() => {});
}

function myState() {
  return { audio: S.audio && S.hasAudio, video: S.video && S.hasVideo, screen: !!S.screen };
}

function renderCall() {
  S.grid = new Grid();
  S.direct = new Direct({
    peers: () => [...S.peers.values()],
    nameOf: (id) => S.peers.get(id)?.name || 'Someone',
    onUnread: () => { if (!S.panelOpen) { S.unread++; renderUnread(); } },
  });
  const b = (id, label, ic, on, cls = '') => el('button', { class: `round ${cls}`.trim(),
    attrs: { type: 'button', id, title: label, 'aria-label': label }, on: { click: on } }, icon(ic));
  const controls = el('div', { class: 'call-controls', attrs: { role: 'toolbar', 'aria-label': 'Call controls' } },
    b('call-mic', 'Mute microphone', 'mic', toggleMic),
    b('call-cam', 'Turn camera off', 'cam', toggleCam),
    b('call-switch', 'Switch camera', 'switch', switchCamera),
    b('call-screen', 'Share your screen', 'screen', toggleScreen),
    b('call-direct', 'Direct messages and files', 'chat', togglePanel),
    b('call-leave', 'Leave call', 'leave', () => leaveCall(), 'danger'));
  // Escape inside the direct panel closes it and gives focus back to its button.
  S.direct.node.addEventListener('keydown', (e) => {
    if (e.key !== 'Escape' || !S.panelOpen) return;
    e.preventDefault();
    togglePanel();
    $('#call-direct', S.stage).focus();
  });
  S.badge = el('span', { class: 'call-badge', attrs: { 'aria-hidden': 'true' } });
  $('#call-direct', controls).append(S.badge);
  const node = el('div', { class: 'call-live' },
    el('div', { class: 'call-main' }, S.grid.node, S.direct.node),
    controls);
  S.stage.replaceChildren(node);
  S.live = node;
  const me = S.grid.add(myId(), S.you.name, { self: true });
  S.grid.setStream(me.id, S.stream);
  S.grid.setState(me.id, myState());
  renderControls();
}

function renderUnread() {
  S.badge.hidden = S.unread === 0;
  setText(S.badge, S.unread > 9 ? '9+' : String(S.unread));
}

function togglePanel() {
  S.panelOpen = !S.panelOpen;
  S.live.classList.toggle('panel-open', S.panelOpen);
  $('#call-direct', S.stage).setAttribute('aria-pressed', String(S.panelOpen));
  if (S.panelOpen) { S.unread = 0; renderUnread(); S.direct.input.focus(); }
}

function renderControls() {
  const mic = $('#call-mic', S.stage);
  const cam = $('#call-cam', S.stage);
  setToggle(mic, S.audio && S.hasAudio, 'mic', 'micOff', 'Mute microphone', 'Unmute microphone');
  setToggle(cam, S.video && S.hasVideo, 'cam', 'camOff', 'Turn camera off', 'Turn camera on');
  mic.disabled = !S.hasAudio;
  cam.disabled = !S.hasVideo || !!S.screen;
  $('#call-switch', S.stage).disabled = !S.hasVideo || !!S.screen || (S.cameras?.length || 0) < 2;
  const scr = $('#call-screen', S.stage);
  scr.classList.toggle('on', !!S.screen);
  scr.setAttribute('aria-pressed', String(!!S.screen));
  scr.title = S.screen ? 'Stop sharing' : 'Share your screen';
  scr.setAttribute('aria-label', scr.title);
  S.grid.setState(myId(), myState());
}

function toggleMic() {
  S.audio = !S.audio;
  for (const t of S.stream.getAudioTracks()) t.enabled = S.audio;
  renderControls();
  tellState();
}

function toggleCam() {
  S.video = !S.video;
  for (const t of S.stream.getVideoTracks()) t.enabled = S.video;
  renderControls();
  tellState();
}

// Next camera: a new track handed to every sender with replaceTrack, so no
// renegotiation and no interruption for the others.
async function switchCamera() {
  if (!S.cameras || S.cameras.length < 2) return;
  const i = S.cameras.findIndex((c) => c.id === S.cameraId);
  const next = S.cameras[(i + 1) % S.cameras.length];
  let track;
  try {
    track = await cameraTrack(next.id);
  } catch (err) {
    toast(`Could not switch camera: ${err.message}`);
    return;
  }
  if (!S) { track.stop(); return; }
  track.enabled = S.video;
  const old = S.stream.getVideoTracks()[0];
  if (old) { S.stream.removeTrack(old); old.stop(); }
  S.stream.addTrack(track);
  S.cameraId = next.id;
  if (!S.screen) await Promise.all([...S.peers.values()].map(({ peer }) => peer.setTrack('video', track, S.stream)));
  S.grid.setStream(myId(), S.stream);
  toast(next.label);
}

async function toggleScreen() {
  if (S.screen) return stopScreen();
  let track;
  try {
    track = await screenTrack();
  } catch (err) {
    if (err?.name !== 'NotAllowedError') toast(err.message || 'Screen sharing failed.');
    return;
  }
  if (!S) { track.stop(); return; }
  S.screen = track;
  track.addEventListener('ended', () => stopScreen());
  const screenStream = new MediaStream([track, ...S.stream.getAudioTracks()]);
  await Promise.all([...S.peers.values()].map(({ peer }) => peer.setTrack('video', track, screenStream)));
  S.grid.setStream(myId(), screenStream);
  renderControls();
  tellState();
}

async function stopScreen() {
  if (!S?.screen) return;
  const track = S.screen;
  S.screen = null;
  track.stop();
  const cam = S.stream.getVideoTracks()[0] || null;
  await Promise.all([...S.peers.values()].map(({ peer }) => peer.setTrack('video', cam, S.stream)));
  S.grid.setStream(myId(), S.stream);
  renderControls();
  tellState();
}

// The connection to member id, made once. initiate: this side offers (we
// were in the call first); otherwise it waits for the other's offer.
function ensurePeer({ id, name, audio = true, video = true, screen = false }, initiate = false) {
  if (!S?.inCall || id === myId()) return null;
  let entry = S.peers.get(id);
  if (entry) {
    if (name && name !== entry.name) { entry.name = name; S.grid.rename(id, name); }
    return entry;
  }
  entry = { id, name: name || '…', peer: null };
  S.peers.set(id, entry);
  S.grid.add(id, entry.name);
  S.grid.setState(id, { audio, video, screen });
  S.grid.setStatus(id, 'Connecting…');
  if (!audio) S.speaker.muted.add(id);
  const room = S.room;
  entry.peer = new Peer({
    id,
    // Both sides compute the same answer from the two ids: exactly one is polite.
    polite: myId() > id,
    waitForOffer: !initiate,
    iceServers: S.iceServers,
    stream: S.screen ? new MediaStream([S.screen, ...S.stream.getAudioTracks()]) : S.stream,
    send: (msg) => request('call:signal', { room, to: id, ...msg }).catch((err) => console.warn('yoom call: signal not delivered', err.message)),
    onTrack: (stream) => {
      if (!S || S.peers.get(id) !== entry) return;
      S.grid.setStream(id, stream);
      S.speaker.set(id, stream);
    },
    onState: (state) => {
      if (!S || S.peers.get(id) !== entry) return;
      const text = { connecting: 'Connecting…', reconnecting: 'Reconnecting…', failed: 'Connection failed, retrying…', connected: '', closed: '' }[state];
      S.grid.setStatus(id, text);
    },
    onMessage: (data) => S?.direct.receive(id, data),
  });
  return entry;
}

function dropPeer(id) {
  const entry = S?.peers.get(id);
  if (!entry) return;
  S.peers.delete(id);
  S.speaker.muted.delete(id);
  entry.peer.close();
  S.speaker.remove(id);
  S.direct.dropPeer(id);
  S.grid.remove(id);
}

async function joinCall() {
  if (!S || S.inCall || S.joining) return;
  S.joining = true;
  S.early = [];
  const btn = $('#call-join', S.stage);
  btn.disabled = true;
  setText(btn, 'Joining…');
  S.speaker.start(); // inside the click: audio contexts need a gesture
  const servers = await iceServers();
  if (!S) return;
  S.iceServers = servers;
  let res;
  try {
    res = await request('call:join', { room: S.room, ...myState() });
  } catch (err) {
    if (!S) return;
    S.joining = false;
    btn.disabled = false;
    setText(btn, 'Join call');
    setText($('#call-notice', S.stage), err.message);
    return;
  }
  if (!S) return;
  S.joining = false;
  S.inCall = true;
  S.peers = new Map();
  S.unread = 0;
  S.panelOpen = false;
  renderCall();
  renderUnread();
  S.speaker.set(myId(), S.stream);
  for (const p of res.peers) ensurePeer(p);
  const early = S.early;
  S.early = [];
  for (const replay of early) replay();
}

// Back to the pre-join screen (button, or the connection to the server was lost).
async function leaveCall({ tell = true } = {}) {
  if (!S?.inCall) return;
  if (S.screen) { S.screen.stop(); S.screen = null; }
  for (const id of [...S.peers.keys()]) dropPeer(id);
  S.speaker.remove(myId());
  S.direct.destroy();
  S.grid.clear();
  S.inCall = false;
  const room = S.room;
  if (tell) request('call:leave', { room }).catch(() => {});
  renderPrejoin();
  await openPreview();
}

// ---- server events ----

// Events that arrive while call:join is in flight (a polling response can
// carry the ack and the others' first offers together) wait for the ack.
function on(event, handler) {
  socket.on(event, (arg) => {
    if (!S || arg?.room !== S.room) return;
    if (S.inCall) handler(arg);
    else if (S.joining) S.early.push(() => handler(arg));
  });
}

on('call:peer-join', ({ peer }) => ensurePeer(peer, true));
on('call:peer-leave', ({ peer }) => dropPeer(peer.id));
on('member:leave', ({ member }) => dropPeer(member.id));
on('call:peer-state', ({ peer }) => {
  const entry = ensurePeer(peer);
  if (!entry) return;
  S.grid.setState(peer.id, peer);
  if (peer.audio) S.speaker.muted.delete(peer.id);
  else S.speaker.muted.add(peer.id);
});
on('call:signal', ({ from, description, candidate }) => {
  const entry = ensurePeer({ id: from });
  entry?.peer.signal({ description, candidate });
});
socket.on('disconnect', () => {
  if (S?.inCall) {
    leaveCall({ tell: false });
    toast('Connection to the server lost: you left the call.');
  }
});

// ---- mounting into the room page ----

// Shows the pre-join screen in stage for room; you = the room:join ack's member.
export function mountCall(stage, { room, you }) {
  unmountCall();
  S = { room, you, stage, stream: new MediaStream(), peers: new Map(), cameraId: '', micId: '',
    audio: true, video: true, hasAudio: false, hasVideo: false, inCall: false,
    speaker: new SpeakerDetector((active, levels) => {
      if (!S?.grid) return;
      // Your own muted microphone never makes you the speaker.
      if (active === myId() && !(S.audio && S.hasAudio)) active = null;
      S.grid.setSpeaker(active, levels);
    }) };
  stage.classList.add('has-call');
  renderPrejoin();
  openPreview();
}

// Leaves the call (if in it) and releases the camera; the stage is emptied.
export function unmountCall() {
  if (!S) return;
  const s = S;
  if (s.inCall) {
    for (const id of [...s.peers.keys()]) dropPeer(id);
    s.direct?.destroy();
  }
  s.screen?.stop();
  s.speaker.stop();
  stopStream(s.stream);
  s.stage.classList.remove('has-call');
  s.stage.replaceChildren();
  S = null;
}
