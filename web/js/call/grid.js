// The grid of call tiles: one per person (you included), with the video or an
// avatar when the camera is off, the name, muted / camera-off / screen
// indicators, the connection state and the active-speaker highlight.
import { el, avatar, setText } from '../dom.js';
import { icon } from './icons.js';

export class Grid {
  constructor() {
    this.node = el('div', { class: 'call-grid', attrs: { role: 'list', 'aria-label': 'People in the call' } });
    this.tiles = new Map();   // id → { node, video, name, ... }
  }

  // self: your own tile (mirrored, muted so you do not hear yourself).
  add(id, name, { self = false } = {}) {
    if (this.tiles.has(id)) return this.tiles.get(id);
    const video = el('video', { class: 'tile-video', attrs: { autoplay: '', playsinline: '' } });
    video.muted = self;
    const nameNode = el('span', { class: 'tile-name', text: self ? `${name} (you)` : name });
    const micOff = el('span', { class: 'tile-ind mic-off', attrs: { title: 'Muted', role: 'img', 'aria-label': 'Muted' } }, icon('micOff'));
    const camOff = el('span', { class: 'tile-ind cam-off', attrs: { title: 'Camera off', role: 'img', 'aria-label': 'Camera off' } }, icon('camOff'));
    const screen = el('span', { class: 'tile-ind screen-on', attrs: { title: 'Sharing the screen', role: 'img', 'aria-label': 'Sharing the screen' } }, icon('screen'));
    const status = el('span', { class: 'tile-status', attrs: { role: 'status' } });
    const level = el('span', { class: 'tile-level', attrs: { 'aria-hidden': 'true' } });
    const face = el('div', { class: 'tile-face' }, avatar(name, 'tile-avatar'));
    const node = el('figure', { class: `tile${self ? ' self' : ''}`, data: { id }, attrs: { role: 'listitem' } },
      video, face,
      el('figcaption', { class: 'tile-caption' }, level, nameNode, micOff, camOff, screen),
      status);
    micOff.hidden = true;
    camOff.hidden = true;
    screen.hidden = true;
    const tile = { id, node, video, nameNode, micOff, camOff, screen, status, level, face, self, name,
      hasVideo: false, camera: true };
    this.tiles.set(id, tile);
    this.node.append(node);
    this.layout();
    return tile;
  }

  get(id) { return this.tiles.get(id); }

  remove(id) {
    const t = this.tiles.get(id);
    if (!t) return;
    t.video.srcObject = null;
    t.node.remove();
    this.tiles.delete(id);
    this.layout();
  }

  rename(id, name) {
    const t = this.tiles.get(id);
    if (!t || t.name === name) return;
    t.name = name;
    setText(t.nameNode, t.self ? `${name} (you)` : name);
    t.face.replaceChildren(avatar(name, 'tile-avatar'));
  }

  setStream(id, stream) {
    const t = this.tiles.get(id);
    if (!t) return;
    if (t.video.srcObject !== stream) t.video.srcObject = stream;
    t.hasVideo = !!stream && stream.getVideoTracks().length > 0;
    // Autoplay may wait for a gesture; the call starts from a click, so this normally plays.
    t.video.play?.().catch(() => {});
    this.paint(t);
  }

  // state: { audio, video, screen } as announced by that person.
  setState(id, { audio, video, screen }) {
    const t = this.tiles.get(id);
    if (!t) return;
    t.micOff.hidden = !!audio;
    t.camOff.hidden = !!video || !!screen;
    t.screen.hidden = !screen;
    t.camera = !!video || !!screen;
    t.node.classList.toggle('screen', !!screen);
    this.paint(t);
  }

  // '' hides the status line.
  setStatus(id, text) {
    const t = this.tiles.get(id);
    if (t) setText(t.status, text);
    if (t) t.status.hidden = !text;
  }

  setSpeaker(activeId, levels) {
    for (const t of this.tiles.values()) {
      t.node.classList.toggle('speaking', t.id === activeId);
      const l = levels.get(t.id) || 0;
      t.level.style.setProperty('--level', l.toFixed(2));
    }
  }

  paint(t) {
    // The avatar covers the video when there is nothing to see.
    t.node.classList.toggle('no-video', !(t.hasVideo && t.camera));
  }

  layout() {
    const n = this.tiles.size;
    const cols = n <= 1 ? 1 : n <= 4 ? 2 : n <= 9 ? 3 : 4;
    this.node.style.setProperty('--cols', String(cols));
    this.node.dataset.count = String(n);
  }

  clear() {
    for (const id of [...this.tiles.keys()]) this.remove(id);
  }
}
