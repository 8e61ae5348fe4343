// Chat text with its http(s) addresses made clickable. Builds text nodes and
// <a> elements only (no HTML parsing), and an address becomes a link only if
// URL() reads it as http: or https:, so "javascript:" and the like stay text.
import { el } from './dom.js';

const URL_RE = /\bhttps?:\/\/[^\s<>"]+/giu;
const TRAILING = `.,;:!?'")]}`; // sentence punctuation after an address
const count = (s, ch) => s.split(ch).length - 1;

// Drops trailing punctuation, but keeps a ")" that closes a "(" of the address.
function trimTrailing(href) {
  while (href && TRAILING.includes(href.at(-1))) {
    if (href.at(-1) === ')' && count(href, '(') >= count(href, ')')) break;
    href = href.slice(0, -1);
  }
  return href;
}

export function linkify(text) {
  const out = [];
  let last = 0;
  for (const m of text.matchAll(URL_RE)) {
    const href = trimTrailing(m[0]);
    let url;
    try { url = new URL(href); } catch { continue; }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') continue;
    if (m.index > last) out.push(text.slice(last, m.index));
    out.push(el('a', { text: href, attrs: { href: url.href, target: '_blank', rel: 'noopener noreferrer nofollow' } }));
    last = m.index + href.length;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}
