// Browser end-to-end over native TLS: why it exists. A page served from a
// name that is not localhost (here "yoom.test", mapped to 127.0.0.1 inside
// Chromium, like a LAN address) over plain http is not a secure context and
// gets no camera; over yoom's own https (--tls-self-signed, the certificate
// warning accepted with --ignore-certificate-errors) it is, gets camera and
// microphone tracks, and the app's Socket.IO works over wss: two people meet
// in a room. Screenshots go to test-artifacts/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { startYoom, ROOT } from '../node/lib/yoom.mjs';

const ART = path.join(ROOT, 'test-artifacts');
const T = 15000; // per-step wait; the test ends by itself if the UI never gets there
const NAME = 'yoom.test';

let secure;   // https
let plain;    // http, for the contrast
let browser;
before(async () => {
  mkdirSync(ART, { recursive: true });
  secure = await startYoom({ args: ['--tls-self-signed', '--tls-san', NAME, '--no-stun'] });
  plain = await startYoom({ args: ['--no-stun'] });
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--use-fake-device-for-media-stream',
      '--use-fake-ui-for-media-stream', '--disable-background-networking',
      '--ignore-certificate-errors', `--host-resolver-rules=MAP ${NAME} 127.0.0.1`],
  });
});
after(async () => {
  if (browser) await browser.close();
  if (secure) assert.equal(await secure.stop(), 0, secure.stderr());
  if (plain) assert.equal(await plain.stop(), 0, plain.stderr());
});

async function person() {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await ctx.newPage();
  page.problems = [];
  page.on('pageerror', (e) => page.problems.push(`pageerror: ${e.message}`));
  return page;
}

const mediaState = (page) => page.evaluate(() => ({
  secure: window.isSecureContext,
  protocol: location.protocol,
  mediaDevices: typeof navigator.mediaDevices?.getUserMedia === 'function',
}));

test('plain http from a non-localhost name: no secure context, no camera', { timeout: 60000 }, async () => {
  const page = await person();
  try {
    await page.goto(`http://${NAME}:${plain.port}/`);
    const st = await mediaState(page);
    assert.deepEqual(st, { secure: false, protocol: 'http:', mediaDevices: false });
  } finally {
    await page.context().close();
  }
});

test('https from the same name: secure context, camera and microphone, chat over wss', { timeout: 120000 }, async () => {
  const alice = await person();
  const bob = await person();
  try {
    const base = `https://${NAME}:${secure.port}`;
    await alice.goto(`${base}/`);
    assert.deepEqual(await mediaState(alice), { secure: true, protocol: 'https:', mediaDevices: true });
    const tracks = await alice.evaluate(async () => {
      const s = await navigator.mediaDevices.getUserMedia({ video: true, audio: true });
      const kinds = s.getTracks().map((t) => `${t.kind}:${t.readyState}`).sort();
      s.getTracks().forEach((t) => t.stop());
      return kinds;
    });
    assert.deepEqual(tracks, ['audio:live', 'video:live']);

    // The app itself over TLS: the lobby, a room, a message (Socket.IO over wss).
    for (const [page, name] of [[alice, 'Alice'], [bob, 'Bob']]) {
      if (page !== alice) await page.goto(`${base}/`);
      await page.waitForSelector('#lobby:not([hidden])', { timeout: T });
      await page.fill('#name-input', name);
      await page.fill('#room-input', 'Secure room');
      await page.keyboard.press('Enter');
      await page.waitForSelector('#room:not([hidden]) #member-list li', { timeout: T });
    }
    await alice.waitForFunction(() => document.querySelectorAll('#member-list .member-name').length === 2, null, { timeout: T });
    assert.equal(await bob.evaluate(() => window.isSecureContext), true);
    await alice.screenshot({ path: path.join(ART, 'tls-room.png'), fullPage: true });
    assert.deepEqual(alice.problems, []);
    assert.deepEqual(bob.problems, []);
    // The server saw the WebSocket upgrade over TLS.
    assert.match(secure.stderr(), /GET \/socket\.io\/\?EIO=4&transport=websocket/);
  } finally {
    await alice.context().close();
    await bob.context().close();
  }
});
