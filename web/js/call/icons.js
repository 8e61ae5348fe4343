// Inline SVG icons for the call controls (drawn here; no icon font, no remote assets).
const NS = 'http://www.w3.org/2000/svg';

// 24×24 strokes, currentColor.
const PATHS = {
  mic: ['M12 3a3 3 0 0 1 3 3v6a3 3 0 0 1-6 0V6a3 3 0 0 1 3-3z', 'M5 11a7 7 0 0 0 14 0', 'M12 18v3'],
  micOff: ['M9 9v3a3 3 0 0 0 5.1 2.1', 'M15 10V6a3 3 0 0 0-5.7-1.3', 'M5 11a7 7 0 0 0 11.6 5.3', 'M19 11a7 7 0 0 1-.6 2.8', 'M12 18v3', 'M3 3l18 18'],
  cam: ['M3 7h12a2 2 0 0 1 2 2v6a2 2 0 0 1-2 2H3z', 'M17 10l4-2.5v9L17 14'],
  camOff: ['M7 7h8a2 2 0 0 1 2 2v4', 'M17 14l4 2.5v-9L17 10', 'M15 17H5a2 2 0 0 1-2-2V9a2 2 0 0 1 2-2', 'M3 3l18 18'],
  switch: ['M4 8h13l-3-3', 'M20 16H7l3 3'],
  screen: ['M3 5h18v11H3z', 'M8 20h8', 'M12 16v4', 'M12 13V8', 'M9.5 10.5L12 8l2.5 2.5'],
  leave: ['M4 14c4.5-4 11.5-4 16 0l-2 3-3-1v-2.5a9 9 0 0 0-6 0V16l-3 1z'],
  chat: ['M4 5h16v11H9l-5 4z'],
  clip: ['M20 11l-8.5 8.5a5 5 0 0 1-7-7L13 4a3.5 3.5 0 0 1 5 5l-8.5 8.5a2 2 0 0 1-3-3L14 7'],
  close: ['M6 6l12 12', 'M18 6L6 18'],
  settings: ['M4 6h10', 'M18 6h2', 'M4 12h4', 'M12 12h8', 'M4 18h12', 'M20 18h0', 'M14 4v4', 'M8 10v4', 'M16 16v4'],
};

export function icon(name, cls = 'icon') {
  const svg = document.createElementNS(NS, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('class', cls);
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('fill', 'none');
  svg.setAttribute('stroke', 'currentColor');
  svg.setAttribute('stroke-width', '2');
  svg.setAttribute('stroke-linecap', 'round');
  svg.setAttribute('stroke-linejoin', 'round');
  for (const d of PATHS[name] || []) {
    const p = document.createElementNS(NS, 'path');
    p.setAttribute('d', d);
    svg.append(p);
  }
  return svg;
}
