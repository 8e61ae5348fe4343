// Direct messages and files over the peers' data channels (seed 004
// §3.10–3.11): nothing goes through or stays on the server. A file is sent
// to everyone in the call as a JSON header, binary chunks and a JSON end
// marker, on each peer's ordered, reliable channel; both sides show a
// progress bar, and the receiver gets a download link when it is complete.
import { el, setText, formatTime } from '../dom.js';
import { icon } from './icons.js';

const CHUNK = 16 * 1024;              // safe for every browser's SCTP message size
const HIGH_WATER = 1024 * 1024;       // pause sending above this much buffered
const MAX_FILE = 200 * 1024 * 1024;   // received files are held in memory
const MAX_TEXT = 2000;

function human(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

function newId() {
  const a = new Uint8Array(8);
  crypto.getRandomValues(a);
  return [...a].map((b) => b.toString(16).padStart(2, '0')).join('');
}

// Waits until the channel's buffer has drained below the low-water mark.
function drained(channel) {
  if (channel.bufferedAmount <= HIGH_WATER) return Promise.resolve();
  channel.bufferedAmountLowThreshold = HIGH_WATER / 4;
  return new Promise((resolve) => {
    const done = () => { channel.removeEventListener('bufferedamountlow', done); channel.removeEventListener('close', done); resolve(); };
    channel.addEventListener('bufferedamountlow', done);
    channel.addEventListener('close', done);
  });
}

export class Direct {
  // peers(): iterable of { id, name, peer } currently in the call.
  constructor({ peers, nameOf, onUnread }) {
    this.peers = peers;
    this.nameOf = nameOf;
    this.onUnread = onUnread;
    this.incoming = new Map();   // peer id → { id, name, size, type, parts, got, item }
    this.urls = [];
    this.sending = Promise.resolve();
    this.build();
  }

  build() {
    this.list = el('ol', { class: 'direct-list', attrs: { 'aria-live': 'polite', 'aria-label': 'Direct messages and files' } });
    this.input = el('input', { class: 'direct-input', attrs: { placeholder: 'Direct message…', maxlength: String(MAX_TEXT), 'aria-label': 'Direct message' } });
    this.file = el('input', { class: 'visually-hidden', attrs: { type: 'file', 'aria-label': 'Send a file', tabindex: '-1' } });
    const attach = el('button', { class: 'btn icon-btn', attrs: { type: 'button', title: 'Send a file', 'aria-label': 'Send a file' },
      on: { click: () => this.file.click() } }, icon('clip'));
    this.file.addEventListener('change', () => {
      for (const f of this.file.files) this.sendFile(f);
      this.file.value = '';
    });
    const form = el('form', { class: 'direct-form', attrs: { autocomplete: 'off' } }, attach, this.file, this.input,
      el('button', { class: 'btn primary', text: 'Send', attrs: { type: 'submit' } }));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const text = this.input.value.trim();
      if (!text) return;
      this.sendText(text);
      this.input.value = '';
    });
    this.node = el('section', { class: 'direct', attrs: { 'aria-label': 'Peer-to-peer messages and files' } },
      el('header', { class: 'direct-head' },
        el('h3', { text: 'Direct' }),
        el('span', { class: 'direct-note', text: 'peer-to-peer, never stored' })),
      this.list,
      el('p', { class: 'direct-empty', text: 'Messages and files sent here go straight to the others in the call.' }),
      form);
    this.empty = this.node.querySelector('.direct-empty');
  }

  add(item) {
    this.empty.hidden = true;
    this.list.append(item);
    this.list.scrollTop = this.list.scrollHeight;
  }

  line(who, text, mine) {
    return el('li', { class: `direct-msg${mine ? ' mine' : ''}` },
      el('span', { class: 'direct-from', text: mine ? 'You' : who }),
      el('time', { class: 'direct-time', text: formatTime(Date.now()) }),
      el('p', { class: 'direct-text', text }));
  }

  sendText(text) {
    const msg = JSON.stringify({ t: 'msg', text: text.slice(0, MAX_TEXT) });
    let sent = 0;
    for (const { peer } of this.peers()) if (peer.post(msg)) sent++;
    this.add(this.line('You', text, true));
    if (!sent) this.add(el('li', { class: 'direct-note-item', text: 'Nobody is connected yet: not delivered.' }));
  }

  fileItem(name, size, label) {
    const bar = el('progress', { class: 'direct-progress', attrs: { max: String(Math.max(size, 1)), value: '0' } });
    const status = el('span', { class: 'direct-file-status', text: label });
    const item = el('li', { class: 'direct-file' },
      el('div', { class: 'direct-file-head' }, icon('clip'), el('span', { class: 'direct-file-name', text: name }),
        el('span', { class: 'direct-file-size', text: human(size) })),
      bar, status);
    return { item, bar, status };
  }

  // Sends file to every connected peer, one file at a time.
  sendFile(file) {
    const ui = this.fileItem(file.name, file.size, 'Waiting…');
    ui.item.classList.add('mine');
    this.add(ui.item);
    this.sending = this.sending.then(() => this.pushFile(file, ui)).catch((err) => {
      setText(ui.status, `Not sent: ${err.message}`);
    });
    return this.sending;
  }

  async pushFile(file, ui) {
    const targets = [...this.peers()].filter(({ peer }) => peer.channel?.readyState === 'open');
    if (!targets.length) throw new Error('nobody is connected yet');
    const id = newId();
    const header = JSON.stringify({ t: 'file', id, name: file.name, size: file.size, type: file.type || 'application/octet-stream' });
    for (const { peer } of targets) peer.post(header);
    let offset = 0;
    while (offset < file.size) {
      const chunk = await file.slice(offset, offset + CHUNK).arrayBuffer();
      for (const { peer } of targets) {
        if (peer.channel) await drained(peer.channel);
        peer.post(chunk);
      }
      offset += chunk.byteLength;
      ui.bar.value = offset;
      setText(ui.status, `Sending… ${Math.floor((offset / Math.max(file.size, 1)) * 100)}%`);
    }
    for (const { peer } of targets) peer.post(JSON.stringify({ t: 'file-end', id }));
    ui.bar.value = Math.max(file.size, 1);
    setText(ui.status, `Sent to ${targets.length} ${targets.length === 1 ? 'person' : 'people'}`);
  }

  // Everything a peer's data channel delivers comes here.
  receive(peerId, data) {
    if (typeof data !== 'string') return this.chunk(peerId, data);
    let m;
    try { m = JSON.parse(data); } catch { return; }
    const who = this.nameOf(peerId);
    if (m.t === 'msg' && typeof m.text === 'string') {
      this.add(this.line(who, m.text.slice(0, MAX_TEXT), false));
      this.onUnread?.();
    } else if (m.t === 'file' && typeof m.name === 'string' && Number.isSafeInteger(m.size) && m.size >= 0) {
      const ui = this.fileItem(m.name.slice(0, 255), m.size, `From ${who}…`);
      this.add(ui.item);
      this.onUnread?.();
      if (m.size > MAX_FILE) {
        setText(ui.status, `Too large to receive (over ${human(MAX_FILE)}).`);
        this.incoming.set(peerId, { refused: true });
        return;
      }
      this.incoming.set(peerId, { id: m.id, name: m.name.slice(0, 255), size: m.size,
        type: typeof m.type === 'string' ? m.type : 'application/octet-stream', parts: [], got: 0, ui, who });
    } else if (m.t === 'file-end') {
      const f = this.incoming.get(peerId);
      this.incoming.delete(peerId);
      if (!f || f.refused || f.id !== m.id) return;
      if (f.got !== f.size) {
        setText(f.ui.status, `Incomplete (${human(f.got)} of ${human(f.size)}).`);
        return;
      }
      // A download link; the type is not trusted to render anything inline.
      const url = URL.createObjectURL(new Blob(f.parts, { type: 'application/octet-stream' }));
      this.urls.push(url);
      f.ui.bar.value = Math.max(f.size, 1);
      f.ui.status.replaceChildren(el('a', { class: 'direct-download', text: 'Download', attrs: { href: url, download: f.name } }),
        ` · from ${f.who}`);
    }
  }

  chunk(peerId, buf) {
    const f = this.incoming.get(peerId);
    if (!f || f.refused) return;
    if (f.got + buf.byteLength > f.size) {
      setText(f.ui.status, 'The sender sent more than announced: dropped.');
      this.incoming.set(peerId, { refused: true });
      return;
    }
    f.parts.push(buf);
    f.got += buf.byteLength;
    f.ui.bar.value = f.got;
    setText(f.ui.status, `Receiving from ${f.who}… ${Math.floor((f.got / Math.max(f.size, 1)) * 100)}%`);
  }

  // A peer left: its half-received file is gone.
  dropPeer(peerId) {
    const f = this.incoming.get(peerId);
    if (f && !f.refused) setText(f.ui.status, `${f.who} left before the file was complete.`);
    this.incoming.delete(peerId);
  }

  destroy() {
    for (const u of this.urls) URL.revokeObjectURL(u);
    this.urls = [];
    this.incoming.clear();
  }
}
