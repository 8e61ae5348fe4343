// Browser end-to-end for clip messages: Alice turns the Clip toggle on (live
// preview of chromium's fake camera), sends a message (countdown, 10 frames of
// 200x200 as binary attachments); Bob's page plays the clip (readyState >= 2,
// videoWidth 200, looping, muted); text-only messages still work; a clip
// scrolled out of view is paused and plays again when scrolled back; a late
// joiner gets the clip from the history. Screenshots go to test-artifacts/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { startYoom, ROOT } from '../node/lib/yoom.mjs';

const ART = path.join(ROOT, 'test-artifacts');
const T = 20000; // per-step wait; the test ends by itself if the UI never gets there

let srv;
let browser;
before(async () => {
  mkdirSync(ART, { recursive: true });
  srv = await startYoom({ args: ['--no-stun', '--history', '50'] }); // the clip stays in the history past the fillers
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--use-fake-device-for-media-stream',
      '--use-fake-ui-for-media-stream', '--disable-background-networking', '--autoplay-policy=no-user-gesture-required'],
  });
});
after(async () => {
  if (browser) await browser.close();
  if (srv) assert.equal(await srv.stop(), 0, srv.stderr());
});

async function person(viewport = { width: 1280, height: 800 }) {
  const ctx = await browser.newContext({ viewport });
  const page = await ctx.newPage();
  page.problems = [];
  page.on('pageerror', (e) => page.problems.push(`pageerror: ${e.message}`));
  return page;
}

const shot = (page, name) => page.screenshot({ path: path.join(ART, `clips-${name}.png`), fullPage: true });

async function enter(page, name, room) {
  await page.goto(`${srv.url}/`);
  await page.waitForSelector('#lobby:not([hidden])', { timeout: T });
  await page.fill('#name-input', name);
  await page.fill('#room-input', room);
  await page.keyboard.press('Enter');
  await page.waitForSelector('#room:not([hidden]) #member-list li', { timeout: T });
}

async function send(page, text) {
  await page.fill('#chat-input', text);
  await page.keyboard.press('Enter');
}

// The clip <video> of the message whose text is `text`, once it can play.
const clipState = (page, text) => page.evaluate((t) => {
  const li = [...document.querySelectorAll('#messages li.msg')].find((x) => x.textContent.includes(t));
  const v = li?.querySelector('video.msg-clip');
  return v ? { readyState: v.readyState, videoWidth: v.videoWidth, videoHeight: v.videoHeight, loop: v.loop,
    muted: v.muted, paused: v.paused, src: v.getAttribute('src') } : null;
}, text);

const waitClipPlayable = (page, text) => page.waitForFunction((t) => {
  const li = [...document.querySelectorAll('#messages li.msg')].find((x) => x.textContent.includes(t));
  const v = li?.querySelector('video.msg-clip');
  return v && v.readyState >= 2 && v.videoWidth > 0;
}, text, { timeout: T });

test('one page records a clip with the fake camera; the other plays it', { timeout: 180000 }, async () => {
  const alice = await person();
  const bob = await person({ width: 1280, height: 640 });
  try {
    await enter(alice, 'Alice', 'Clips');
    await enter(bob, 'Bob', 'Clips');

    // The toggle shows the live preview of the camera.
    await alice.click('#clip-button');
    assert.equal(await alice.getAttribute('#clip-button', 'aria-pressed'), 'true');
    await alice.waitForFunction(() => {
      const v = document.querySelector('#clip-preview video');
      return v && !document.querySelector('#clip-preview').hidden && v.readyState >= 2 && v.videoWidth > 0;
    }, null, { timeout: T });
    await send(alice, 'hello with a clip');
    // The countdown shows before the capture.
    await alice.waitForFunction(() => /^[123]$/.test(document.querySelector('.clip-count')?.textContent || ''), null, { timeout: T });
    await shot(alice, 'countdown');

    await waitClipPlayable(bob, 'hello with a clip');
    const b = await clipState(bob, 'hello with a clip');
    assert.ok(b.readyState >= 2);
    assert.equal(b.videoWidth, 200);
    assert.equal(b.videoHeight, 200);
    assert.equal(b.loop, true);
    assert.equal(b.muted, true);
    assert.match(b.src, /^\/clips\/[0-9a-f]{40}\.webm$/);
    await waitClipPlayable(alice, 'hello with a clip');
    assert.equal((await clipState(alice, 'hello with a clip')).videoWidth, 200);
    await shot(bob, 'received');

    // Text-only messages stay possible: the toggle off, no clip.
    await alice.click('#clip-button');
    assert.equal(await alice.getAttribute('#clip-button', 'aria-pressed'), 'false');
    await send(alice, 'just words');
    await bob.waitForFunction(() => [...document.querySelectorAll('#messages li.msg')].some((x) => x.textContent.includes('just words')), null, { timeout: T });
    assert.equal(await clipState(bob, 'just words'), null);

    // Scrolled out of view, the clip pauses; back in view, it plays.
    for (let i = 0; i < 40; i++) {
      await send(alice, `filler ${i}`);
      // The composer clears the box once the server acked the message.
      await alice.waitForFunction(() => document.querySelector('#chat-input').value === '', null, { timeout: T });
    }
    await bob.waitForFunction(() => document.querySelectorAll('#messages li.msg').length >= 42, null, { timeout: T });
    await bob.evaluate(() => { const l = document.querySelector('#messages'); l.scrollTop = l.scrollHeight; });
    await bob.waitForFunction(() => document.querySelector('video.msg-clip')?.paused === true, null, { timeout: T });
    await bob.evaluate(() => { document.querySelector('#messages').scrollTop = 0; });
    await bob.waitForFunction(() => document.querySelector('video.msg-clip')?.paused === false, null, { timeout: T });

    // A late joiner gets the clip with the history.
    const carol = await person();
    await enter(carol, 'Carol', 'Clips');
    await waitClipPlayable(carol, 'hello with a clip');
    assert.equal((await clipState(carol, 'hello with a clip')).videoWidth, 200);
    await shot(carol, 'history');

    for (const p of [alice, bob, carol]) assert.deepEqual(p.problems, []);
  } finally {
    await alice.context().close();
    await bob.context().close();
  }
});
