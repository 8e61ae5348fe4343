// Browser end-to-end for yoom's own admin page (/admin/): sign in with the
// admin password, see a connected client's row (hostile nickname as text),
// its room, make it leave the room and disconnect it with the buttons.
// Screenshots go to test-artifacts/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { io } from 'socket.io-client';
import { startYoom, ROOT } from '../node/lib/yoom.mjs';

const ART = path.join(ROOT, 'test-artifacts');
const EVIL = '<img src=x onerror=alert(1)>';
const T = 10000;
const PASSWORD = 'correct horse';

let srv;
let browser;
before(async () => {
  mkdirSync(ART, { recursive: true });
  srv = await startYoom({ args: ['--admin-password', PASSWORD] });
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
});
after(async () => {
  if (browser) await browser.close();
  if (srv) assert.equal(await srv.stop(), 0, srv.stderr());
});

async function page(colorScheme = 'light', viewport = { width: 1280, height: 800 }) {
  const ctx = await browser.newContext({ viewport, colorScheme });
  const p = await ctx.newPage();
  p.problems = [];
  p.on('dialog', async (d) => { p.problems.push(`dialog: ${d.message()}`); await d.dismiss(); });
  p.on('pageerror', (e) => p.problems.push(`pageerror: ${e.message}`));
  return p;
}

const shot = (p, name) => p.screenshot({ path: path.join(ART, `admin-${name}.png`), fullPage: true });

function appClient() {
  const s = io(srv.url, { forceNew: true, reconnection: false, transports: ['websocket'] });
  return new Promise((resolve, reject) => {
    s.once('connect', () => resolve(s));
    s.once('connect_error', reject);
  });
}

test('sign in, see a client and its room, make it leave and disconnect it', { timeout: 120000 }, async () => {
  const admin = await page();
  const client = await appClient();
  try {
    await admin.goto(`${srv.url}/admin/`);
    await admin.waitForSelector('#login:not([hidden])', { timeout: T });
    await shot(admin, 'login');
    await admin.fill('#password', 'wrong');
    await admin.keyboard.press('Enter');
    await admin.waitForFunction(() => document.querySelector('#login-error').textContent.includes('Wrong'), null, { timeout: T });
    await admin.fill('#password', PASSWORD);
    await admin.keyboard.press('Enter');
    await admin.waitForSelector('#dash:not([hidden])', { timeout: T });

    // The client picks a hostile nickname and enters a room (seed 004's events).
    client.emit('nickname', EVIL);
    await new Promise((resolve) => client.emit('enter_room', 'Team sync', resolve));
    const row = `#sockets tr[data-id="${client.id}"]`;
    await admin.waitForSelector(`${row} .room-chip`, { timeout: T });
    assert.equal(await admin.textContent(`${row} td:nth-child(3)`), EVIL);
    assert.equal(await admin.$(`${row} img`), null, 'the nickname is text, not markup');
    assert.equal(await admin.textContent(`${row} td:nth-child(4)`), 'websocket');
    assert.equal(await admin.textContent(`${row} td:nth-child(6)`), '127.0.0.1');
    assert.equal(await admin.textContent(`${row} .room-chip > span`), 'Team sync');
    await admin.waitForSelector('#rooms tr[data-room="Team sync"]', { timeout: T });
    assert.match(await admin.textContent('#rooms tr[data-room="Team sync"]'), new RegExp(client.id));
    // Stats arrive (on connect and every 2 s): the admin page and the client.
    await admin.waitForFunction(() => Number(document.querySelector('#st-clients').textContent) >= 2, null, { timeout: T });
    await shot(admin, 'dashboard');

    // The × on the room chip makes the client leave the room.
    await admin.click(`${row} .room-chip button`);
    await admin.waitForSelector(`${row} .room-chip`, { state: 'detached', timeout: T });
    await admin.waitForSelector('#rooms tr[data-room="Team sync"]', { state: 'detached', timeout: T });

    // Disconnect: the client is told by the server, the row goes.
    const id = client.id;
    const reason = new Promise((resolve) => client.once('disconnect', resolve));
    await admin.click(`${row} button.danger`);
    assert.equal(await reason, 'io server disconnect');
    await admin.waitForSelector(`#sockets tr[data-id="${id}"]`, { state: 'detached', timeout: T });

    // A reload keeps the session (no password again).
    await admin.reload();
    await admin.waitForSelector('#dash:not([hidden])', { timeout: T });
    assert.ok(await admin.isHidden('#login'));

    // Dark scheme, phone width.
    const dark = await page('dark', { width: 390, height: 844 });
    const c2 = await appClient();
    c2.emit('nickname', 'Dana');
    await new Promise((resolve) => c2.emit('enter_room', 'Design review', resolve));
    await dark.goto(`${srv.url}/admin/`);
    await dark.fill('#password', PASSWORD);
    await dark.keyboard.press('Enter');
    await dark.waitForSelector(`#sockets tr[data-id="${c2.id}"] .room-chip`, { timeout: T });
    await shot(dark, 'dashboard-dark-phone');
    c2.close();
    assert.deepEqual(dark.problems, []);
    assert.deepEqual(admin.problems, []);
  } finally {
    client.close();
  }
});

test('the page says so when the admin view is off', { timeout: 60000 }, async () => {
  const off = await startYoom();
  try {
    const p = await page();
    await p.goto(`${off.url}/admin/`);
    await p.waitForSelector('#notice:not([hidden])', { timeout: T });
    assert.match(await p.textContent('#notice-text'), /--admin/);
    await shot(p, 'off');
  } finally {
    assert.equal(await off.stop(), 0);
  }
});
