// Entry point: routes between the lobby (/) and a room (/r/<room>).
import { $, setText, avatar, clear } from './dom.js';
import { socket } from './socket.js';
import { getName, setName } from './store.js';
import { askName } from './dialogs.js';
import { initLobby, showLobby } from './lobby.js';
import { initRoom, openRoom, leaveRoom, inRoom, roomPath } from './room.js';

function roomFromPath() {
  const m = /^\/r\/(.+)$/.exec(location.pathname);
  if (!m) return null;
  try { return decodeURIComponent(m[1]); } catch { return null; }
}

function renderMe() {
  const name = getName();
  $('#me-button').hidden = !name;
  setText($('#me-name'), name);
  const slot = $('#me-avatar');
  clear(slot);
  if (name) slot.replaceWith(Object.assign(avatar(name), { id: 'me-avatar' }));
}

async function route(errorMessage = '') {
  const room = roomFromPath();
  if (room) {
    if (inRoom() === room) return;
    if (inRoom()) await leaveRoom();
    const ok = await openRoom(room);
    renderMe();
    if (!ok) return;
  } else {
    if (inRoom()) await leaveRoom();
    showLobby(errorMessage);
  }
}

function go(path, error = '') {
  if (location.pathname !== path) history.pushState(null, '', path);
  route(error);
}

initLobby((room, password) => {
  renderMe();
  history.pushState(null, '', roomPath(room));
  openRoom(room, password);
});
initRoom((error) => go('/', error));

window.addEventListener('popstate', () => route());
document.addEventListener('click', (e) => {
  const a = e.target.closest('a[data-nav]');
  if (!a || e.ctrlKey || e.metaKey || e.shiftKey) return;
  e.preventDefault();
  go(a.dataset.nav);
});

$('#me-button').addEventListener('click', async () => {
  const name = (await askName(getName()))?.trim();
  if (!name) return;
  setName(name);
  $('#name-input').value = name;
  renderMe();
});

const conn = $('#conn');
const setConn = (state, text) => { conn.dataset.state = state; setText(conn, text); };
socket.on('connect', () => setConn('up', 'Connected'));
socket.on('disconnect', () => setConn('down', 'Reconnecting…'));
socket.on('connect_error', () => setConn('down', 'Cannot reach the server'));

renderMe();
route();
