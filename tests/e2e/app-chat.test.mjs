// Browser end-to-end: two people choose names, meet in a room from the lobby,
// chat, see counts change and leave; a third arrives by link with a hostile
// nickname that must render as text. Screenshots go to test-artifacts/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { startYoom, ROOT } from '../node/lib/yoom.mjs';

const ART = path.join(ROOT, 'test-artifacts');
const EVIL = '<img src=x onerror=alert(1)>';
const T = 10000; // per-step wait; the test ends by itself if the UI never gets there

let srv;
let browser;
before(async () => {
  mkdirSync(ART, { recursive: true });
  srv = await startYoom();
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--use-fake-device-for-media-stream',
      '--use-fake-ui-for-media-stream', '--disable-background-networking'],
  });
});
after(async () => {
  if (browser) await browser.close();
  if (srv) assert.equal(await srv.stop(), 0, srv.stderr());
});

// A fresh person: own context (own localStorage), failing on any alert or page error.
async function person(viewport = { width: 1280, height: 800 }, colorScheme = 'light') {
  const ctx = await browser.newContext({ viewport, colorScheme });
  const page = await ctx.newPage();
  page.problems = [];
  page.on('dialog', async (d) => { page.problems.push(`dialog: ${d.message()}`); await d.dismiss(); });
  page.on('pageerror', (e) => page.problems.push(`pageerror: ${e.message}`));
  return page;
}

const shot = (page, name) => page.screenshot({ path: path.join(ART, `app-chat-${name}.png`), fullPage: true });

async function enterFromLobby(page, name, room) {
  await page.goto(`${srv.url}/`);
  await page.waitForSelector('#lobby:not([hidden])', { timeout: T });
  await page.fill('#name-input', name);
  await page.fill('#room-input', room);
  await page.keyboard.press('Enter');
  await page.waitForSelector('#room:not([hidden]) #member-list li', { timeout: T });
}

const memberNames = (page) => page.$$eval('#member-list .member-name', (els) => els.map((e) => e.textContent));
const messageTexts = (page) => page.$$eval('#messages .msg-text', (els) => els.map((e) => e.textContent));
const waitText = (page, sel, text) => page.waitForFunction(
  ([s, t]) => [...document.querySelectorAll(s)].some((e) => e.textContent.includes(t)), [sel, text], { timeout: T });

test('two people chat in a room from the lobby; hostile names stay text', { timeout: 120000 }, async () => {
  const alice = await person();
  const bob = await person();
  const watcher = await person({ width: 390, height: 844 }); // phone width, stays in the lobby
  try {
    await watcher.goto(`${srv.url}/`);
    await watcher.waitForSelector('#lobby:not([hidden])', { timeout: T });

    // Alice creates the room from the lobby form.
    await enterFromLobby(alice, 'Alice', 'Team sync');
    assert.equal(new URL(alice.url()).pathname, '/r/Team%20sync');
    assert.equal(await alice.textContent('#room-title'), 'Team sync');
    assert.deepEqual(await memberNames(alice), ['Alice']);
    assert.match(await alice.inputValue('#room-link'), /\/r\/Team%20sync$/);
    // The copy button puts the link on the clipboard.
    await alice.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: srv.url });
    await alice.click('#copy-link');
    await alice.waitForSelector('#toast:not([hidden])', { timeout: T });
    assert.equal(await alice.evaluate(() => navigator.clipboard.readText()), `${srv.url}/r/Team%20sync`);

    // The lobby shows the room live, with its count.
    await waitText(watcher, '#room-list .room-item', '1 person');
    assert.equal(await watcher.textContent('#room-list .room-item-name'), 'Team sync');
    await shot(watcher, 'lobby-phone');

    // Bob picks it from the lobby list.
    await bob.goto(`${srv.url}/`);
    await bob.waitForSelector('#lobby:not([hidden])', { timeout: T });
    await bob.fill('#name-input', 'Bob');
    await waitText(bob, '#room-list .room-item-name', 'Team sync');
    await bob.click('#room-list button[aria-label="Join Team sync"]');
    await bob.waitForSelector('#room:not([hidden]) #member-list li', { timeout: T });
    await waitText(alice, '#messages .notice', 'Bob joined.');
    await waitText(alice, '#room-count', '2 people');
    await waitText(watcher, '#room-list .room-item', '2 people');
    assert.deepEqual(await memberNames(bob), ['Alice', 'Bob']);

    // Messages both ways; Enter sends.
    await alice.fill('#chat-input', 'Hello Bob!');
    await alice.press('#chat-input', 'Enter');
    await waitText(bob, '#messages .msg-text', 'Hello Bob!');
    await bob.fill('#chat-input', 'Hi Alice, 안녕!');
    await bob.press('#chat-input', 'Enter');
    await waitText(alice, '#messages .msg-text', 'Hi Alice, 안녕!');
    assert.deepEqual(await messageTexts(alice), ['Hello Bob!', 'Hi Alice, 안녕!']);
    assert.equal(await alice.inputValue('#chat-input'), '', 'the box is cleared after sending');

    // Someone arrives by link with no name stored and a hostile nickname.
    const mallory = await person();
    await mallory.goto(`${srv.url}/r/${encodeURIComponent('Team sync')}`);
    await mallory.waitForSelector('#name-dialog[open]', { timeout: T });
    await mallory.fill('#name-dialog-input', EVIL);
    await mallory.press('#name-dialog-input', 'Enter');
    await mallory.waitForSelector('#room:not([hidden]) #member-list li', { timeout: T });
    await mallory.fill('#chat-input', EVIL);
    await mallory.press('#chat-input', 'Enter');
    await waitText(alice, '#messages .msg-text', EVIL);
    await waitText(alice, '#member-list .member-name', EVIL);
    assert.deepEqual(await memberNames(alice), ['Alice', 'Bob', EVIL]);
    assert.equal(await alice.$$eval('#main img, #main [onerror]', (els) => els.length), 0, 'no element was created from text');

    // http(s) addresses become links (new tab, no referrer); other schemes stay text; no text is lost.
    const LINKS = 'See https://example.com/guide?x=1. Also (https://example.org/a_(b)) and javascript:alert(1)';
    await bob.fill('#chat-input', LINKS);
    await bob.press('#chat-input', 'Enter');
    await waitText(alice, '#messages .msg-text', LINKS);
    const links = await alice.$$eval('#messages .msg-text a', (as) => as.map((a) => [a.getAttribute('href'), a.target, a.rel]));
    assert.deepEqual(links, [
      ['https://example.com/guide?x=1', '_blank', 'noopener noreferrer nofollow'],
      ['https://example.org/a_(b)', '_blank', 'noopener noreferrer nofollow'],
    ]);
    await waitText(watcher, '#room-list .room-item', '3 people');
    await shot(alice, 'room-desktop');
    await shot(mallory, 'room-hostile-sender');

    // Bob leaves: back to the lobby, his name remembered; the others see it.
    await bob.click('#leave-button');
    await bob.waitForSelector('#lobby:not([hidden])', { timeout: T });
    assert.equal(new URL(bob.url()).pathname, '/');
    assert.equal(await bob.inputValue('#name-input'), 'Bob');
    await waitText(alice, '#messages .notice', 'Bob left.');
    await waitText(alice, '#room-count', '2 people');
    await waitText(watcher, '#room-list .room-item', '2 people');
    assert.deepEqual(await memberNames(alice), ['Alice', EVIL]);

    // Phone width: the room still fits, the composer is reachable.
    await alice.setViewportSize({ width: 390, height: 844 });
    assert.ok(await alice.isVisible('#chat-input'));
    const overflow = await alice.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 1, `no horizontal scrolling at phone width (${overflow}px)`);
    await shot(alice, 'room-phone');

    await mallory.close();
    await waitText(alice, '#messages .notice', `${EVIL} left.`);
    for (const p of [alice, bob, watcher, mallory]) assert.deepEqual(p.problems, []);
  } finally {
    for (const p of [alice, bob, watcher]) await p.context().close();
  }
});

test('a locked room asks for its password; Escape closes the dialog', { timeout: 60000 }, async () => {
  const owner = await person(undefined, 'dark');
  const guest = await person();
  try {
    await owner.goto(`${srv.url}/`);
    await owner.waitForSelector('#lobby:not([hidden])', { timeout: T });
    await owner.fill('#name-input', 'Owner');
    await owner.fill('#room-input', 'vault');
    await owner.fill('#room-password', 'letmein');
    await owner.click('#create-button');
    await owner.waitForSelector('#room-lock:not([hidden])', { timeout: T });

    await guest.goto(`${srv.url}/`);
    await guest.waitForSelector('#lobby:not([hidden])', { timeout: T });
    await guest.fill('#name-input', 'Guest');
    await waitText(guest, '#room-list .room-item', 'Locked');
    await guest.click('#room-list button[aria-label="Join vault"]');
    await guest.waitForSelector('#password-dialog[open]', { timeout: T });
    // Escape closes the dialog and returns to the lobby with the reason.
    await guest.keyboard.press('Escape');
    await guest.waitForSelector('#lobby:not([hidden])', { timeout: T });
    await waitText(guest, '#create-error', 'locked');

    await guest.click('#room-list button[aria-label="Join vault"]');
    await guest.waitForSelector('#password-dialog[open]', { timeout: T });
    await guest.fill('#password-dialog-input', 'wrong');
    await guest.press('#password-dialog-input', 'Enter');
    await waitText(guest, '#password-dialog-text', 'Wrong password');
    await guest.fill('#password-dialog-input', 'letmein');
    await guest.press('#password-dialog-input', 'Enter');
    await guest.waitForSelector('#room:not([hidden]) #member-list li:nth-child(2)', { timeout: T });
    await waitText(owner, '#messages .notice', 'Guest joined.');
    await shot(guest, 'locked-room');
    await shot(owner, 'room-dark');
    // Dark mode really is dark: the page background follows prefers-color-scheme.
    const bg = await owner.evaluate(() => getComputedStyle(document.body).backgroundColor);
    const [r, g, b] = bg.match(/\d+/g).map(Number);
    assert.ok(r + g + b < 150, `dark background, got ${bg}`);
    for (const p of [owner, guest]) assert.deepEqual(p.problems, []);
  } finally {
    for (const p of [owner, guest]) await p.context().close();
  }
});
