// Clip player for the message list: each clip loops beside its text
// (autoplay, muted, loop, playsinline), and clips scrolled out of view are
// paused by one IntersectionObserver so a long chat does not decode dozens of
// videos at once.
import { $, el } from '../dom.js';

let observer = null;

function visibility() {
  if (observer) return observer;
  observer = new IntersectionObserver((entries) => {
    for (const e of entries) {
      const v = e.target;
      if (e.isIntersecting) v.play().catch(() => { /* not allowed yet: stays paused */ });
      else v.pause();
    }
  }, { root: $('#messages'), threshold: 0.1 });
  return observer;
}

// Only our own /clips/ URLs are played: a message is data, not a link to anywhere.
const safeUrl = (u) => (typeof u === 'string' && /^\/clips\/[0-9a-f]{40}\.(webm|jpg)$/.test(u) ? u : null);

// A <video> for a message's clip ({url, poster, type}), or null.
export function clipElement(clip) {
  const url = safeUrl(clip?.url);
  if (!url) return null;
  const v = el('video', {
    class: 'msg-clip',
    attrs: { src: url, muted: '', loop: '', playsinline: '', autoplay: '', preload: 'auto', width: 200, height: 200,
      'aria-label': 'Clip' },
  });
  const poster = safeUrl(clip.poster);
  if (poster) v.setAttribute('poster', poster);
  v.muted = true; // the attribute alone does not satisfy autoplay rules everywhere
  visibility().observe(v);
  return v;
}

// Stops observing clips that left the DOM (the list drops old messages).
export function forgetClips(root) {
  if (!observer) return;
  for (const v of root.querySelectorAll('video.msg-clip')) observer.unobserve(v);
}
