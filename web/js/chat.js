// The chat column: messages, join/leave notices, the composer.
import { $, el, avatar, formatTime, setText, clear } from './dom.js';
import { clipElement, forgetClips } from './clips/player.js';
import { clipArmed } from './clips/recorder.js';
import { linkify } from './linkify.js';

const MAX_SHOWN = 500; // keep the DOM small in long sessions

function append(node) {
  const list = $('#messages');
  const nearBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
  list.append(node);
  while (list.children.length > MAX_SHOWN) {
    forgetClips(list.firstElementChild);
    list.firstElementChild.remove();
  }
  if (nearBottom || node.classList.contains('mine')) list.scrollTop = list.scrollHeight;
}

export function clearChat() {
  clear($('#messages'));
  setText($('#chat-error'), '');
}

export function showMessage(msg, mine) {
  // The join ack's history and a live chat:message can both carry a message.
  if (msg.id && $(`#messages li[data-id="${CSS.escape(String(msg.id))}"]`)) return;
  const who = msg.from?.name ?? '?';
  append(el('li', { class: `msg${mine ? ' mine' : ''}`, data: { id: msg.id } },
    avatar(who),
    el('div', { class: 'msg-body' },
      el('div', { class: 'msg-head' },
        el('span', { class: 'msg-from', text: mine ? `${who} (you)` : who }),
        el('time', { class: 'msg-time', text: formatTime(msg.ts), attrs: { datetime: new Date(msg.ts).toISOString() } })),
      msg.text ? el('p', { class: 'msg-text' }, ...linkify(msg.text)) : null,
      msg.clip ? clipElement(msg.clip) : null)));
}

// Seed 004 clients relay plain "nick: text" lines.
export function showPlain(line) {
  append(el('li', { class: 'msg plain' }, el('p', { class: 'msg-text', text: line })));
}

export function showNotice(text) {
  append(el('li', { class: 'notice', text }));
}

// send(text) returns a promise; rejects with the server's message.
export function initComposer(send) {
  const input = $('#chat-input');
  const form = $('#chat-form');
  const grow = () => {
    input.style.height = 'auto';
    input.style.height = `${Math.min(input.scrollHeight, 160)}px`;
  };
  input.addEventListener('input', grow);
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      form.requestSubmit();
    }
  });
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const text = input.value;
    if (!text.trim() && !clipArmed()) return; // a clip alone is a message
    setText($('#chat-error'), '');
    try {
      await send(text);
      input.value = '';
      grow();
    } catch (err) {
      setText($('#chat-error'), err.message);
    }
    input.focus();
  });
}
