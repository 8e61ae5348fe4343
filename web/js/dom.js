// Safe DOM helpers. Text from other people only ever goes through
// textContent / text nodes, never innerHTML, so `<img onerror=…>` stays text.

export const $ = (sel, root = document) => root.querySelector(sel);

// el('li', { class: 'x', data: { id: 1 }, attrs: { 'aria-label': 'y' }, on: { click: fn } }, 'text', childNode)
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  if (props.class) node.className = props.class;
  if (props.text !== undefined) node.textContent = String(props.text);
  for (const [k, v] of Object.entries(props.data || {})) node.dataset[k] = String(v);
  for (const [k, v] of Object.entries(props.attrs || {})) {
    // Attributes come from our own code only; refuse event-handler attributes outright.
    if (/^on/i.test(k)) throw new Error(`refusing attribute ${k}`);
    node.setAttribute(k, String(v));
  }
  for (const [k, fn] of Object.entries(props.on || {})) node.addEventListener(k, fn);
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
}

export function setText(node, text) {
  node.textContent = String(text ?? '');
}

// First letters of up to two words, for avatars.
export function initials(name) {
  const words = String(name).trim().split(/\s+/u).filter(Boolean);
  const first = (w) => Array.from(w)[0] || '';
  return ((words[0] ? first(words[0]) : '?') + (words[1] ? first(words[1]) : '')).toUpperCase();
}

// A stable hue per name so people keep their colour.
export function hueOf(name) {
  let h = 0;
  for (const ch of String(name)) h = (h * 31 + ch.codePointAt(0)) >>> 0;
  return h % 360;
}

export function avatar(name, extraClass = '') {
  const a = el('span', { class: `avatar ${extraClass}`.trim(), text: initials(name), attrs: { 'aria-hidden': 'true' } });
  a.style.setProperty('--hue', String(hueOf(name)));
  return a;
}

let toastTimer = 0;
export function toast(message) {
  const t = $('#toast');
  setText(t, message);
  t.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { t.hidden = true; }, 2600);
}

export function formatTime(ms) {
  return new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

// The padlock of locked rooms (an SVG: emoji fonts are not everywhere).
export function lockIcon() {
  const NS = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(NS, 'svg');
  svg.setAttribute('viewBox', '0 0 16 16');
  svg.setAttribute('class', 'icon');
  svg.setAttribute('aria-hidden', 'true');
  const path = document.createElementNS(NS, 'path');
  path.setAttribute('d', 'M4 7V5a4 4 0 1 1 8 0v2h.5A1.5 1.5 0 0 1 14 8.5v5a1.5 1.5 0 0 1-1.5 1.5h-9A1.5 1.5 0 0 1 2 13.5v-5A1.5 1.5 0 0 1 3.5 7zm2 0h4V5a2 2 0 1 0-4 0z');
  svg.append(path);
  return svg;
}
