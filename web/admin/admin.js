// yoom's own admin page: the /admin namespace with the @socket.io/admin-ui
// protocol (docs/PROTOCOL.md, "Admin"), so it works without the hosted UI.
// Everything that comes from clients (ids, names, rooms) is inserted as text.
import { io } from '/socket.io/socket.io.esm.min.js';

const $ = (id) => document.getElementById(id);
const SESSION_KEY = 'yoom-admin-session';

const state = {
  sockets: new Map(),   // `${nsp}\n${id}` → SerializedSocket
  features: new Set(),
  filter: '',
  lastStats: null,
};
let socket = null;

const key = (nsp, id) => `${nsp}\n${id}`;

function el(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children) if (c != null) e.append(c);
  return e;
}

function setConn(stateName, text) {
  const c = $('conn');
  c.dataset.state = stateName;
  c.textContent = text;
}

function show(which) {
  $('notice').hidden = which !== 'notice';
  $('login').hidden = which !== 'login';
  $('dash').hidden = which !== 'dash';
}

// ---- connection ----

function connect(auth) {
  if (socket) {
    socket.removeAllListeners();
    socket.close();
  }
  setConn('connecting', 'Connecting…');
  socket = io('/admin', { auth, reconnection: true, transports: ['websocket', 'polling'] });
  socket.on('connect', () => {
    setConn('up', 'Connected');
    show('dash');
  });
  socket.on('connect_error', (err) => {
    if (err.message === 'invalid credentials') {
      socket.close();
      sessionStorage.removeItem(SESSION_KEY);
      setConn('down', 'Sign-in needed');
      show('login');
      if (auth && auth.password) $('login-error').textContent = 'Wrong password.';
      $('password').focus();
    } else if (err.message === 'Invalid namespace') {
      socket.close();
      setConn('down', 'Off');
      $('notice-title').textContent = 'Admin view is off';
      $('notice-text').textContent = 'Start yoom with --admin (or --admin-password PASSWORD) to see and manage sockets and rooms here.';
      show('notice');
    } else {
      setConn('down', 'Reconnecting…');
    }
  });
  socket.on('disconnect', () => setConn('down', 'Reconnecting…'));
  socket.on('session', (id) => {
    sessionStorage.setItem(SESSION_KEY, id);
    // Reconnections use the session, so the password is not kept around.
    socket.auth = { sessionId: id };
    $('logout').hidden = false;
  });
  socket.on('config', (cfg) => {
    state.features = new Set(cfg.supportedFeatures || []);
    const ro = !state.features.has('DISCONNECT');
    $('st-mode').textContent = ro ? 'read-only' : '';
    render();
  });
  socket.on('all_sockets', (list) => {
    state.sockets.clear();
    for (const s of list) state.sockets.set(key(s.nsp, s.id), s);
    render();
  });
  socket.on('socket_connected', (s) => {
    state.sockets.set(key(s.nsp, s.id), { ...s, fresh: true });
    render();
  });
  socket.on('socket_updated', (patch) => {
    const s = state.sockets.get(key(patch.nsp, patch.id));
    if (s) Object.assign(s, patch);
    render();
  });
  socket.on('socket_disconnected', (nsp, id) => {
    state.sockets.delete(key(nsp, id));
    render();
  });
  socket.on('room_joined', (nsp, room, id) => {
    const s = state.sockets.get(key(nsp, id));
    if (s && !s.rooms.includes(room)) s.rooms.push(room);
    render();
  });
  socket.on('room_left', (nsp, room, id) => {
    const s = state.sockets.get(key(nsp, id));
    if (s) s.rooms = s.rooms.filter((r) => r !== room);
    render();
  });
  socket.on('server_stats', (st) => {
    state.lastStats = st;
    renderStats();
  });
}

// ---- commands ----

function disconnectSocket(s) {
  socket.emit('_disconnect', s.nsp, false, s.id);
}

function leaveRoom(s, room) {
  socket.emit('leave', s.nsp, room, s.id);
}

// ---- rendering ----

function fmtUptime(sec) {
  sec = Math.floor(sec);
  const d = Math.floor(sec / 86400), h = Math.floor(sec / 3600) % 24, m = Math.floor(sec / 60) % 60, s = sec % 60;
  if (d) return `${d}d ${h}h`;
  if (h) return `${h}h ${m}m`;
  if (m) return `${m}m ${s}s`;
  return `${s}s`;
}

function renderStats() {
  const st = state.lastStats;
  if (!st) return;
  $('st-clients').textContent = String(st.clientsCount);
  $('st-polling').textContent = String(st.pollingClientsCount);
  $('st-sockets').textContent = String(st.namespaces.reduce((n, x) => n + x.socketsCount, 0));
  const sum = (type) => st.aggregatedEvents.filter((e) => e.type === type).reduce((n, e) => n + e.count, 0);
  $('st-packets').textContent = `${sum('packetsIn')} / ${sum('packetsOut')}`;
  $('st-uptime').textContent = fmtUptime(st.uptime);
  $('st-server').textContent = `${st.hostname} · pid ${st.pid}`;
  $('st-nsps').textContent = st.namespaces.map((n) => `${n.name}: ${n.socketsCount}`).join('  ·  ');
  // Namespaces for the filter, keeping the choice.
  const sel = $('nsp-filter');
  const names = st.namespaces.map((n) => n.name);
  const have = [...sel.options].slice(1).map((o) => o.value);
  if (names.join('\n') !== have.join('\n')) {
    sel.replaceChildren(el('option', { value: '', text: 'all' }), ...names.map((n) => el('option', { value: n, text: n })));
    sel.value = names.includes(state.filter) ? state.filter : '';
  }
}

function renderSockets(list) {
  const canDisconnect = state.features.has('DISCONNECT');
  const canLeave = state.features.has('LEAVE');
  const rows = list.map((s) => {
    const rooms = el('div', { class: 'rooms' });
    for (const r of s.rooms) {
      if (r === s.id) continue; // its own, private room
      const chip = el('span', { class: 'room-chip' }, el('span', { text: r, title: r }));
      if (canLeave) {
        chip.append(el('button', {
          type: 'button', 'aria-label': `Make ${s.id} leave ${r}`, title: 'Leave this room', text: '×',
          onclick: () => leaveRoom(s, r),
        }));
      }
      rooms.append(chip);
    }
    const name = s.data && typeof s.data.nickname === 'string' ? s.data.nickname : '';
    const tr = el('tr', { 'data-id': s.id, 'data-nsp': s.nsp, class: s.fresh ? 'fresh' : '' },
      el('td', { class: 'mono id', text: s.id }),
      el('td', { class: 'mono', text: s.nsp }),
      el('td', { text: name }),
      el('td', { text: s.transport }),
      el('td', {}, rooms),
      el('td', { class: 'mono', text: (s.handshake && s.handshake.address) || '' }),
      el('td', { class: 'cell-actions' }, canDisconnect
        ? el('button', { type: 'button', class: 'btn danger small', 'aria-label': `Disconnect ${s.id}`, text: 'Disconnect',
          onclick: () => disconnectSocket(s) })
        : null));
    s.fresh = false;
    return tr;
  });
  $('sockets').tBodies[0].replaceChildren(...rows);
  $('sockets-count').textContent = String(list.length);
  $('sockets-empty').hidden = list.length > 0;
  $('sockets').hidden = list.length === 0;
}

function renderRooms(list) {
  const rooms = new Map(); // `${nsp}\n${room}` → {nsp, name, members: [socket]}
  for (const s of list) {
    for (const r of s.rooms) {
      if (r === s.id) continue;
      const k = key(s.nsp, r);
      if (!rooms.has(k)) rooms.set(k, { nsp: s.nsp, name: r, members: [] });
      rooms.get(k).members.push(s);
    }
  }
  const sorted = [...rooms.values()].sort((a, b) => a.nsp.localeCompare(b.nsp) || a.name.localeCompare(b.name));
  const rows = sorted.map((r) => el('tr', { 'data-room': r.name },
    el('td', {}, el('strong', { text: r.name }), ' ', el('span', { class: 'badge', text: String(r.members.length) })),
    el('td', { class: 'mono', text: r.nsp }),
    el('td', {}, el('div', { class: 'room-members' }, ...r.members.map((m) => {
      const nick = m.data && typeof m.data.nickname === 'string' ? m.data.nickname : '';
      return el('span', { class: 'small' }, nick ? `${nick} ` : '', el('span', { class: 'mono muted', text: m.id }));
    })))));
  $('rooms').tBodies[0].replaceChildren(...rows);
  $('rooms-count').textContent = String(sorted.length);
  $('rooms-empty').hidden = sorted.length > 0;
  $('rooms').hidden = sorted.length === 0;
}

let scheduled = false;
// Events come in bursts (a join changes rooms for many): draw once per frame.
function render() {
  if (scheduled) return;
  scheduled = true;
  requestAnimationFrame(() => {
    scheduled = false;
    const list = [...state.sockets.values()]
      .filter((s) => !state.filter || s.nsp === state.filter)
      .sort((a, b) => a.nsp.localeCompare(b.nsp) || a.id.localeCompare(b.id));
    renderSockets(list);
    renderRooms(list);
  });
}

// ---- start ----

$('nsp-filter').addEventListener('change', (e) => {
  state.filter = e.target.value;
  render();
});
$('login').addEventListener('submit', (e) => {
  e.preventDefault();
  $('login-error').textContent = '';
  const password = $('password').value;
  if (!password) {
    $('login-error').textContent = 'Enter the password.';
    return;
  }
  $('password').value = '';
  connect({ username: 'admin', password });
});
$('logout').addEventListener('click', () => {
  sessionStorage.removeItem(SESSION_KEY);
  $('logout').hidden = true;
  if (socket) socket.close();
  show('login');
  setConn('down', 'Signed out');
});

const saved = sessionStorage.getItem(SESSION_KEY);
if (saved) $('logout').hidden = false;
connect(saved ? { sessionId: saved } : {});
