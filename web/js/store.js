// What the browser remembers between visits (localStorage; private modes may refuse).
const NAME_KEY = 'yoom.name';

export function getName() {
  try { return localStorage.getItem(NAME_KEY) || ''; } catch { return ''; }
}

export function setName(name) {
  try { localStorage.setItem(NAME_KEY, name); } catch { /* not remembered, still used */ }
}
