// The lobby: your name, the live room list with counts, create/join a room.
import { $, el, clear, setText, lockIcon } from './dom.js';
import { socket, request } from './socket.js';
import { getName, setName } from './store.js';

let onEnter = () => {};

function renderRooms(rooms) {
  const list = $('#room-list');
  clear(list);
  setText($('#rooms-count'), rooms.length);
  $('#rooms-empty').hidden = rooms.length > 0;
  for (const r of rooms) {
    const label = `${r.count} ${r.count === 1 ? 'person' : 'people'}`;
    list.append(el('li', { class: 'room-item', data: { room: r.name } },
      el('div', { class: 'room-item-main' },
        el('span', { class: 'room-item-name', text: r.name }),
        el('span', { class: 'room-item-meta' },
          el('span', { class: 'room-item-count', text: label }),
          r.locked ? el('span', { class: 'lock small' }, lockIcon(), 'Locked') : null)),
      el('button', {
        class: 'btn',
        text: 'Join',
        attrs: { type: 'button', 'aria-label': `Join ${r.name}` },
        on: { click: () => enter(r.name, '') },
      })));
  }
}

function enter(room, password) {
  const name = $('#name-input').value.trim();
  if (!name) {
    setText($('#create-error'), 'Choose a name first.');
    $('#name-input').focus();
    return;
  }
  setName(name);
  onEnter(room, password);
}

export function initLobby(enterCb) {
  onEnter = enterCb;
  $('#name-input').value = getName();
  $('#name-input').addEventListener('change', () => {
    const v = $('#name-input').value.trim();
    if (v) setName(v);
  });
  $('#create-form').addEventListener('submit', (e) => {
    e.preventDefault();
    setText($('#create-error'), '');
    const room = $('#room-input').value.trim();
    if (!room) {
      setText($('#create-error'), 'Give the room a name.');
      $('#room-input').focus();
      return;
    }
    enter(room, $('#room-password').value);
  });
  socket.on('rooms', (msg) => renderRooms(msg.rooms || []));
  socket.on('connect', refresh);
  if (socket.connected) refresh();
}

async function refresh() {
  try {
    const res = await request('rooms:list', {});
    renderRooms(res.rooms);
  } catch (err) {
    setText($('#create-error'), err.message);
  }
}

export function showLobby(error = '') {
  $('#room').hidden = true;
  $('#lobby').hidden = false;
  document.title = 'yoom';
  $('#name-input').value = getName();
  $('#room-password').value = '';
  setText($('#create-error'), error);
  (getName() ? $('#room-input') : $('#name-input')).focus();
  refresh();
}
