// The room page: header with the share link, member list, stage, chat.
import { $, el, avatar, clear, setText, toast } from './dom.js';
import { socket, request } from './socket.js';
import { getName, setName } from './store.js';
import { askName, askPassword } from './dialogs.js';
import { clearChat, initComposer, showMessage, showNotice, showPlain } from './chat.js';
import { captureClip, initRecorder, resetRecorder } from './clips/recorder.js';
import { mountCall, unmountCall } from './call/call.js';

let current = null;     // { name, you, creatorId, members: Map(id → member), password }
let onLeft = () => {};
// chat:message that arrive while a join waits for its ack (the ack waits for
// the room's history): shown after the history, duplicates dropped by id.
let early = [];
const EARLY_MAX = 200;

export const roomPath = (name) => `/r/${encodeURIComponent(name)}`;

function renderMembers() {
  const list = $('#member-list');
  clear(list);
  const members = [...current.members.values()];
  for (const m of members) {
    const you = m.id === current.you.id;
    list.append(el('li', { class: `member${you ? ' you' : ''}`, data: { id: m.id } },
      avatar(m.name),
      el('span', { class: 'member-name', text: m.name }),
      you ? el('span', { class: 'tag', text: 'you' }) : null,
      m.creator ? el('span', { class: 'tag host', text: 'host' }) : null));
  }
  setText($('#members-count'), `(${members.length})`);
  setText($('#room-count'), `${members.length} ${members.length === 1 ? 'person' : 'people'}`);
}

function renderHeader(room) {
  setText($('#room-title'), room.name);
  document.title = `${room.name} · yoom`;
  $('#room-lock').hidden = !room.locked;
  $('#room-link').value = `${location.origin}${roomPath(room.name)}`;
  $('#lock-button').hidden = !current.you.creator;
  setText($('#lock-button'), room.locked ? 'Change password' : 'Set password');
}

async function join(name, password) {
  let nick = getName();
  if (!nick) {
    nick = (await askName(''))?.trim();
    if (!nick) return false;
    setName(nick);
  }
  for (;;) {
    try {
      const res = await request('room:join', { room: name, name: nick, password: password || null });
      current = { name: res.room.name, you: res.you, members: new Map(), password };
      for (const m of res.members) current.members.set(m.id, m);
      return res;
    } catch (err) {
      if (/password/i.test(err.message) && /locked|wrong/i.test(err.message)) {
        const pw = await askPassword(`“${name}” is locked`, err.message);
        if (pw === null) throw err;
        password = pw;
        continue;
      }
      if (/^Nicknames/.test(err.message)) {
        const again = (await askName(nick))?.trim();
        if (!again) throw err;
        nick = again;
        setName(nick);
        continue;
      }
      throw err;
    }
  }
}

// Opens room `name`: joins on the server, then shows the page.
// Resolves false (and returns to the lobby with a message) if that fails.
export async function openRoom(name, password = '') {
  $('#lobby').hidden = true;
  $('#room').hidden = false;
  clearChat();
  early = [];
  clear($('#member-list'));
  setText($('#room-title'), name);
  let res;
  try {
    res = await join(name, password);
  } catch (err) {
    current = null;
    onLeft(err.message);
    return false;
  }
  if (!res) { current = null; onLeft(''); return false; }
  renderHeader(res.room);
  renderMembers();
  mountCall($('#stage'), { room: res.room.name, you: res.you });
  // The room's recent history (with clips) came with the join ack.
  for (const m of res.messages || []) showMessage(m, m.from?.name === res.you.name);
  for (const m of early) if (m.room === res.room.name) showMessage(m, false);
  early = [];
  showNotice(`You joined ${res.room.name}.`);
  // preventScroll: on phones, focusing the box would scroll the call out of view.
  $('#chat-input').focus({ preventScroll: true });
  return true;
}

export async function leaveRoom() {
  resetRecorder(); // releases the camera
  if (!current) return;
  const name = current.name;
  current = null;
  unmountCall();
  try { await request('room:leave', { room: name }); } catch { /* gone already */ }
}

export function inRoom() { return current?.name ?? null; }

export function initRoom(leftCb) {
  onLeft = leftCb;
  initRecorder({ onError: (msg) => setText($('#chat-error'), msg) });
  initComposer(async (text) => {
    if (!current) throw new Error('You are not in a room.');
    const frames = await captureClip(); // null unless the Clip toggle is on
    const res = frames
      ? await request('chat:send', { room: current.name, text, frames }, 30000)
      : await request('chat:send', { room: current.name, text });
    showMessage(res.message, true);
  });
  $('#leave-button').addEventListener('click', async () => {
    await leaveRoom();
    onLeft('');
  });
  $('#copy-link').addEventListener('click', async () => {
    const link = $('#room-link').value;
    try {
      await navigator.clipboard.writeText(link);
      toast('Link copied');
    } catch {
      $('#room-link').select();
      toast('Press Ctrl+C to copy the link');
    }
  });
  $('#lock-button').addEventListener('click', async () => {
    if (!current) return;
    const pw = await askPassword('Room password', 'People will need this password to join. Leave it empty to remove it.', true);
    if (pw === null || !current) return;
    try {
      const res = await request('room:lock', { room: current.name, password: pw || null });
      renderHeader(res.room);
      toast(res.room.locked ? 'Room locked' : 'Password removed');
    } catch (err) {
      toast(err.message);
    }
  });

  socket.on('member:join', ({ room, member }) => {
    if (!current || room !== current.name) return;
    current.members.set(member.id, member);
    renderMembers();
    showNotice(`${member.name} joined.`);
  });
  socket.on('member:leave', ({ room, member }) => {
    if (!current || room !== current.name) return;
    current.members.delete(member.id);
    renderMembers();
    showNotice(`${member.name} left.`);
  });
  socket.on('chat:message', (msg) => {
    if (current && msg.room === current.name) showMessage(msg, false);
    else if (!current && early.length < EARLY_MAX) early.push(msg);
  });
  socket.on('new_message', (line) => {
    if (current && typeof line === 'string') showPlain(line);
  });
  socket.on('rooms', ({ rooms }) => {
    const r = current && rooms.find((x) => x.name === current.name);
    if (r) renderHeader(r);
  });
  // A new connection has forgotten our rooms: join again.
  socket.on('connect', async () => {
    if (!current || socket.recovered) return;
    const { name, password } = current;
    try {
      const res = await join(name, password);
      renderHeader(res.room);
      renderMembers();
      // What was said while we were away (already shown messages are skipped by id).
      for (const m of res.messages || []) showMessage(m, m.from?.name === res.you.name);
      showNotice('Reconnected.');
    } catch (err) {
      current = null;
      onLeft(err.message);
    }
  });
}
