// Browser end-to-end for calls, inside a private network namespace that has
// only `lo` (so no media or STUN traffic can leave loopback): three people
// join one room with fake cameras and each decodes video from the other two;
// muting shows on the others' tiles; switching camera keeps frames flowing
// without renegotiation; a direct message and a small file arrive over the
// data channels; the seed 004 video client (its own event names) connects
// two pages. Screenshots go to test-artifacts/.
//
// The file runs itself again under `unshare -n` (needs root, as in CI); if
// that is not permitted the test fails with the reason, it is never skipped.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const SELF = fileURLToPath(import.meta.url);
const INSIDE = process.env.YOOM_E2E_NETNS === '1';

if (!INSIDE) {
  test('call end-to-end inside a private network namespace (unshare -n, lo only)', { timeout: 240000 }, async () => {
    const probe = spawnSync('unshare', ['-n', 'sh', '-c', 'ip link set lo up'], { encoding: 'utf8' });
    assert.equal(probe.status, 0,
      `cannot create a private network namespace (unshare -n; needs root or CAP_SYS_ADMIN): ${probe.error?.message || probe.stderr}`);
    // NODE_TEST_CONTEXT would make the child report to this runner instead of running its own tests.
    const env = { ...process.env, YOOM_E2E_NETNS: '1' };
    delete env.NODE_TEST_CONTEXT;
    const child = spawn('unshare', ['-n', 'sh', '-c', 'ip link set lo up && exec "$0" --test-reporter=tap "$1"',
      process.execPath, SELF], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; process.stdout.write(d); });
    child.stderr.on('data', (d) => { out += d; process.stderr.write(d); });
    const code = await new Promise((resolve) => child.on('exit', (c, sig) => resolve(c ?? `signal ${sig}`)));
    assert.equal(code, 0, `the suite inside the namespace failed:\n${out.slice(-4000)}`);
    assert.match(out, /# pass [1-9]/);
    assert.match(out, /# fail 0/);
  });
} else {
  await inside();
}

async function inside() {
  const { chromium } = await import('playwright-core');
  const { startYoom, ROOT } = await import('../node/lib/yoom.mjs');
  const ART = path.join(ROOT, 'test-artifacts');
  const T = 20000; // per-step wait; every wait ends by itself

  let srv;
  let browser;
  const allPages = [];
  const allLogs = () => allPages.flatMap((p) => p.logs).join('\n');
  before(async () => {
    mkdirSync(ART, { recursive: true });
    // Only lo exists here: prove it, so a pass cannot come from another network.
    const links = spawnSync('ip', ['-o', 'link'], { encoding: 'utf8' }).stdout.trim().split('\n');
    assert.deepEqual(links.map((l) => l.split(':')[1].trim()), ['lo']);
    srv = await startYoom({ args: ['--stun-port', '0'] });
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--use-fake-device-for-media-stream=device-count=3',
        '--use-fake-ui-for-media-stream', '--disable-background-networking', '--allow-loopback-in-peer-connection',
        '--autoplay-policy=no-user-gesture-required'],
    });
  });
  after(async () => {
    if (browser) await browser.close();
    if (srv) assert.equal(await srv.stop(), 0, srv.stderr());
  });

  // A person with their own context (storage) and name; records every peer
  // connection the page makes, so the test can read getStats().
  async function person(name, viewport = { width: 1280, height: 800 }) {
    const ctx = await browser.newContext({ viewport });
    await ctx.addInitScript((n) => {
      try { if (n) localStorage.setItem('yoom.name', n); } catch { /* about:blank */ }
      const Orig = window.RTCPeerConnection;
      window.__pcs = [];
      window.RTCPeerConnection = class extends Orig {
        constructor(...args) { super(...args); window.__pcs.push(this); }
      };
    }, name);
    const page = await ctx.newPage();
    allPages.push(page);
    page.problems = [];
    page.on('pageerror', (e) => page.problems.push(`pageerror: ${e.message}`));
    page.logs = [];
    page.on('console', (m) => page.logs.push(`${name || 'seed'} ${m.type()}: ${m.text()}`));
    page.on('dialog', async (d) => { page.problems.push(`dialog: ${d.message()}`); await d.dismiss(); });
    return page;
  }

  const shot = (page, name, fullPage = false) => page.screenshot({ path: path.join(ART, `call-${name}.png`), fullPage });

  // Inbound video per open peer connection: [{ framesDecoded, frameWidth }].
  const inbound = (page) => page.evaluate(async () => {
    const out = [];
    for (const pc of window.__pcs) {
      if (pc.connectionState === 'closed') continue;
      const stats = await pc.getStats();
      let v = { framesDecoded: 0, frameWidth: 0 };
      stats.forEach((s) => {
        if (s.type === 'inbound-rtp' && s.kind === 'video') v = { framesDecoded: s.framesDecoded || 0, frameWidth: s.frameWidth || 0 };
      });
      out.push(v);
    }
    return out;
  });

  // Waits until the page is connected to n peers and decodes rising video
  // from `video` of them (all by default; viewers send none).
  async function decodingFrom(page, n, video = n) {
    try {
      await page.waitForFunction((k) => window.__pcs.filter((pc) => pc.connectionState === 'connected').length >= k, n, { timeout: T });
    } catch (err) {
      const states = await page.evaluate(() => window.__pcs.map((pc) => `${pc.connectionState}/${pc.iceConnectionState}/${pc.signalingState}`));
      assert.fail(`${err.message}: peer connections ${JSON.stringify(states)}\n${allLogs()}`);
    }
    const live = (all) => all.map((v, i) => ({ ...v, i })).filter((v) => v.framesDecoded > 0 && v.frameWidth > 0);
    let first;
    for (const deadline = Date.now() + T; ;) {
      const now = await inbound(page);
      const ok = now.length === n && live(now).length >= video;
      if (ok && !first) first = now;
      else if (ok && live(first).filter((v) => now[v.i].framesDecoded > v.framesDecoded).length >= video) return now;
      if (Date.now() > deadline) assert.fail(`video not decoded from ${video} of ${n} peers: ${JSON.stringify(now)}\n${allLogs()}`);
      await page.waitForTimeout(300);
    }
  }

  // Waits until audio from n peers has arrived with some energy, twice rising.
  async function hearing(page, n) {
    const energy = () => page.evaluate(async () => {
      const out = [];
      for (const pc of window.__pcs) {
        if (pc.connectionState === 'closed') continue;
        let e = 0;
        (await pc.getStats()).forEach((s) => { if (s.type === 'inbound-rtp' && s.kind === 'audio') e += s.totalAudioEnergy || 0; });
        out.push(e);
      }
      return out;
    });
    let first;
    for (const deadline = Date.now() + T; ;) {
      const now = await energy();
      const ok = now.length === n && now.every((e) => e > 0);
      if (ok && !first) first = now;
      else if (ok && now.every((e, i) => e > first[i])) return;
      if (Date.now() > deadline) assert.fail(`no audio from ${n} peers: ${JSON.stringify(now)}`);
      await page.waitForTimeout(300);
    }
  }

  const selfId = (page) => page.getAttribute('.tile.self', 'data-id');

  async function joinCall(page, room) {
    await page.goto(`${srv.url}/r/${encodeURIComponent(room)}`);
    await page.waitForSelector('#call-join:not([disabled])', { timeout: T });
  }

  test('three people in one room see and hear each other; mute, switch camera, direct message and file', { timeout: 150000 }, async () => {
    const ann = await person('Ann');
    const ben = await person('Ben');
    const cat = await person('Cat');
    const people = [ann, ben, cat];

    for (const p of people) await joinCall(p, 'Standup');
    assert.match(await ann.textContent('#call-notice'), /ready/i);
    await shot(ann, 'prejoin');

    for (const p of people) await p.click('#call-join');
    for (const p of people) await p.waitForFunction(() => document.querySelectorAll('.call-grid .tile').length === 3, null, { timeout: T });
    // Each page decodes video from the other two.
    for (const p of people) await decodingFrom(p, 2);
    // Names on the tiles.
    const names = await ann.$$eval('.call-grid .tile-name', (els) => els.map((e) => e.textContent).sort());
    assert.deepEqual(names, ['Ann (you)', 'Ben', 'Cat']);
    // And hears them: audio arrives from both, with energy (the fake microphone beeps).
    for (const p of people) await hearing(p, 2);
    await shot(ann, 'three');
    // Active speaker: with Ann and Cat muted, only Ben makes sound, and
    // Ann's page highlights Ben's tile by its audio level.
    const benId = await selfId(ben);
    await ann.click('#call-mic');
    await cat.click('#call-mic');
    await ann.waitForSelector(`.tile.speaking[data-id="${benId}"]`, { timeout: T });
    assert.equal(await ann.locator('.tile.speaking').count(), 1);
    await shot(ann, 'speaker');
    await ann.click('#call-mic');
    await cat.click('#call-mic');

    // Ben mutes: the others' tile for Ben shows the muted indicator.
    const benTile = (p) => p.locator(`.tile[data-id="${benId}"] .mic-off`);
    assert.equal(await benTile(ann).isVisible(), false);
    await ben.click('#call-mic');
    for (const p of [ann, cat]) await benTile(p).waitFor({ state: 'visible', timeout: T });
    assert.equal(await ben.getAttribute('#call-mic', 'aria-pressed'), 'true');
    // Camera off shows Ben's avatar instead of his video.
    await ben.click('#call-cam');
    await ann.waitForSelector(`.tile.no-video[data-id="${benId}"] .tile-face`, { timeout: T });
    await shot(ann, 'ben-muted-camera-off');
    await ben.click('#call-cam');
    await ann.waitForSelector(`.tile:not(.no-video)[data-id="${benId}"]`, { timeout: T });

    // Ben switches camera: a new track goes out with replaceTrack, no new
    // offer (the local descriptions stay the same), and frames keep coming.
    await ben.waitForSelector('#call-switch:not([disabled])', { timeout: T });
    const before = await ben.evaluate(() => ({
      sdp: window.__pcs.filter((pc) => pc.connectionState !== 'closed').map((pc) => pc.localDescription.sdp),
      track: window.__pcs.find((pc) => pc.connectionState !== 'closed').getSenders().find((s) => s.track?.kind === 'video').track.id,
    }));
    // Chromium's second fake camera is a 16-bit depth format its encoder does
    // not take, so switch twice: camera 1, then camera 3 (MJPEG).
    for (const label of ['fake_device_1', 'fake_device_2']) {
      await ben.click('#call-switch');
      await ben.waitForFunction((l) => window.__pcs.filter((pc) => pc.connectionState !== 'closed')
        .every((pc) => pc.getSenders().some((s) => s.track?.kind === 'video' && s.track.label === l)), label, { timeout: T });
    }
    assert.notEqual(await ben.evaluate(() => window.__pcs.find((pc) => pc.connectionState !== 'closed')
      .getSenders().find((s) => s.track?.kind === 'video').track.id), before.track);
    const afterSwitch = await ben.evaluate(() => window.__pcs.filter((pc) => pc.connectionState !== 'closed').map((pc) => pc.localDescription.sdp));
    assert.deepEqual(afterSwitch, before.sdp, 'switching camera renegotiated');
    for (const p of [ann, cat]) await decodingFrom(p, 2);

    // Direct message over the data channels.
    await ann.click('#call-direct');
    await ann.fill('.direct-input', 'hello over P2P');
    await ann.press('.direct-input', 'Enter');
    for (const p of [ben, cat]) {
      await p.waitForFunction(() => [...document.querySelectorAll('.direct-text')].some((e) => e.textContent === 'hello over P2P'), null, { timeout: T });
      assert.equal(await p.textContent('#call-direct .call-badge'), '1');
    }
    // A small file: both receivers get a complete download with the same bytes.
    const content = 'yoom file transfer test\n'.repeat(3000); // ~72 KB: several chunks
    await ann.setInputFiles('.direct input[type=file]', { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from(content) });
    for (const p of [ben, cat]) {
      await p.click('#call-direct');
      const link = p.locator('.direct-download');
      await link.waitFor({ timeout: T });
      assert.equal(await link.getAttribute('download'), 'notes.txt');
      // Download it as a person would and compare the bytes.
      const [download] = await Promise.all([p.waitForEvent('download', { timeout: T }), link.click()]);
      assert.equal(download.suggestedFilename(), 'notes.txt');
      assert.equal(readFileSync(await download.path(), 'utf8'), content);
      const bar = await p.$eval('.direct-file .direct-progress', (b) => [b.value, b.max]);
      assert.equal(bar[0], bar[1]);
    }
    await ann.waitForFunction(() => /Sent to 2 people/.test(document.querySelector('.direct-file-status')?.textContent), null, { timeout: T });
    await shot(ben, 'direct-file');

    // Cat shares the screen: the others see the screen indicator and keep
    // decoding; stopping puts the camera back. Both by replaceTrack.
    const catId = await selfId(cat);
    const senderLabels = (p) => p.evaluate(() => window.__pcs.filter((pc) => pc.connectionState !== 'closed')
      .map((pc) => pc.getSenders().find((x) => x.track?.kind === 'video')?.track.label));
    await cat.click('#call-screen');
    await ann.locator(`.tile.screen[data-id="${catId}"] .screen-on`).waitFor({ state: 'visible', timeout: T });
    assert.ok((await senderLabels(cat)).every((l) => /^screen/.test(l)), String(await senderLabels(cat)));
    await decodingFrom(ann, 2);
    await shot(ann, 'screen-share');
    await cat.click('#call-screen');
    await ann.waitForSelector(`.tile:not(.screen)[data-id="${catId}"]`, { timeout: T });
    assert.ok((await senderLabels(cat)).every((l) => /^fake_device/.test(l)), String(await senderLabels(cat)));

    // An ICE restart (what the client does when a path fails) renegotiates
    // through the perfect-negotiation path and the video keeps flowing.
    const ufrags = () => ann.evaluate(() => window.__pcs.filter((pc) => pc.connectionState !== 'closed')
      .map((pc) => /a=ice-ufrag:(\S+)/.exec(pc.localDescription.sdp)[1]));
    const oldUfrags = await ufrags();
    await ann.evaluate(() => window.__pcs.filter((pc) => pc.connectionState !== 'closed').forEach((pc) => pc.restartIce()));
    await ann.waitForFunction((old) => window.__pcs.filter((pc) => pc.connectionState !== 'closed')
      .every((pc, i) => pc.signalingState === 'stable' && /a=ice-ufrag:(\S+)/.exec(pc.localDescription.sdp)[1] !== old[i]), oldUfrags, { timeout: T });
    for (const p of people) await decodingFrom(p, 2);
    // Simultaneous offers (glare): every page renegotiates every connection
    // at once; perfect negotiation settles it and video keeps flowing.
    await Promise.all(people.map((p) => p.evaluate(() => window.__pcs
      .filter((pc) => pc.connectionState !== 'closed').forEach((pc) => pc.restartIce()))));
    for (const p of people) {
      await p.waitForFunction(() => window.__pcs.filter((pc) => pc.connectionState !== 'closed')
        .every((pc) => pc.signalingState === 'stable'), null, { timeout: T });
    }
    for (const p of people) await decodingFrom(p, 2);

    // Cat leaves the call: the others drop to two tiles and one connection.
    await cat.click('#call-leave');
    await cat.waitForSelector('#call-join:not([disabled])', { timeout: T });
    for (const p of [ann, ben]) await p.waitForFunction(() => document.querySelectorAll('.call-grid .tile').length === 2, null, { timeout: T });
    await decodingFrom(ann, 1);
    for (const p of people) assert.deepEqual(p.problems, []);

    // Ben closes his tab: the server's member:leave makes Ann hang up on him.
    await ben.context().close();
    await ann.waitForFunction(() => document.querySelectorAll('.call-grid .tile').length === 1, null, { timeout: T });
    assert.equal(await ann.evaluate(() => window.__pcs.filter((pc) => pc.connectionState !== 'closed').length), 0);
    for (const p of [ann, cat]) await p.context().close();
  });

  test('without camera permission: a clear message and joining as a viewer still shows the others', { timeout: 90000 }, async () => {
    const host = await person('Host');
    const shy = await person('Shy');
    // Refuse the camera and the microphone on this page only.
    await shy.addInitScript(() => {
      navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('denied', 'NotAllowedError'));
    });
    await joinCall(host, 'Viewers');
    await joinCall(shy, 'Viewers');
    assert.match(await shy.textContent('#call-notice'), /permission was refused.*viewer/);
    assert.equal(await shy.textContent('#call-join'), 'Join as viewer');
    await shot(shy, 'viewer-prejoin');
    await host.click('#call-join');
    await shy.click('#call-join');
    await decodingFrom(shy, 1);
    // The host sees the viewer's tile with the muted and camera-off indicators.
    const shyId = await selfId(shy);
    await host.locator(`.tile[data-id="${shyId}"] .mic-off`).waitFor({ state: 'visible', timeout: T });
    await host.locator(`.tile[data-id="${shyId}"] .cam-off`).waitFor({ state: 'visible', timeout: T });

    // No camera at all (on a phone-sized screen): audio only, said so, and the others hear it.
    const mic = await person('Mic', { width: 390, height: 844 });
    await mic.addInitScript(() => {
      const real = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
      navigator.mediaDevices.getUserMedia = (c) => (c.video ? Promise.reject(new DOMException('none', 'NotFoundError')) : real(c));
    });
    await joinCall(mic, 'Viewers');
    assert.equal(await mic.textContent('#call-notice'), 'Camera unavailable: none was found. You will join with audio only.');
    assert.equal(await mic.textContent('#call-join'), 'Join call');
    await mic.click('#call-join');
    await decodingFrom(mic, 2, 1); // the host's video; the viewer sends none
    const micId = await selfId(mic);
    await host.locator(`.tile[data-id="${micId}"] .cam-off`).waitFor({ state: 'visible', timeout: T });
    assert.equal(await host.locator(`.tile[data-id="${micId}"] .mic-off`).isVisible(), false);
    await hearing(shy, 2); // the viewer hears both
    await shot(mic, 'audio-only-phone', true);
    for (const p of [host, shy, mic]) assert.deepEqual(p.problems, []);
    for (const p of [host, shy, mic]) await p.context().close();
  });

  // Seed 004's video client, as in the seed: join_room(room, done), then on
  // welcome an offer with a data channel, answer, ice, all with the room name.
  const SEED_HTML = `<!doctype html><html><body>
<video id="myFace" autoplay playsinline muted width="320"></video>
<video id="peerFace" autoplay playsinline width="320"></video>
<script src="/socket.io/socket.io.js"></script>
<script>
const socket = io();
let myStream, myPeerConnection, myDataChannel, roomName;
window.received = [];
async function getMedia() {
  myStream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
  document.getElementById('myFace').srcObject = myStream;
}
function makeConnection() {
  myPeerConnection = new RTCPeerConnection();
  myPeerConnection.addEventListener('icecandidate', (data) => socket.emit('ice', data.candidate, roomName));
  myPeerConnection.addEventListener('track', (data) => { document.getElementById('peerFace').srcObject = data.streams[0]; });
  myStream.getTracks().forEach((track) => myPeerConnection.addTrack(track, myStream));
}
async function startMedia() { }
window.enter = async (room) => {
  await getMedia();
  makeConnection();
  roomName = room;
  await new Promise((resolve) => socket.emit('join_room', room, resolve));
};
const onWelcome = async () => {
  myDataChannel = myPeerConnection.createDataChannel('chat');
  myDataChannel.addEventListener('message', (e) => window.received.push(e.data));
  const offer = await myPeerConnection.createOffer();
  myPeerConnection.setLocalDescription(offer);
  socket.emit('offer', offer, roomName);
};
socket.on('welcome', onWelcome);
socket.on('offer', async (offer) => {
  myPeerConnection.addEventListener('datachannel', (event) => {
    myDataChannel = event.channel;
    myDataChannel.addEventListener('message', (e) => window.received.push(e.data));
  });
  myPeerConnection.setRemoteDescription(offer);
  const answer = await myPeerConnection.createAnswer();
  myPeerConnection.setLocalDescription(answer);
  socket.emit('answer', answer, roomName);
});
socket.on('answer', (answer) => myPeerConnection.setRemoteDescription(answer));
socket.on('ice', (ice) => { if (ice) myPeerConnection.addIceCandidate(ice); });
</script></body></html>`;

  test('seed 004 video client: two pages connect with the seed event names', { timeout: 90000 }, async () => {
    const a = await person('');
    const b = await person('');
    for (const p of [a, b]) {
      await p.route(`${srv.url}/seed004-video`, (route) => route.fulfill({ contentType: 'text/html', body: SEED_HTML }));
      await p.goto(`${srv.url}/seed004-video`);
      await p.waitForFunction(() => window.io && typeof window.enter === 'function', null, { timeout: T });
    }
    await a.evaluate(() => window.enter('seedroom'));
    await b.evaluate(() => window.enter('seedroom'));
    for (const p of [a, b]) await decodingFrom(p, 1);
    await a.waitForFunction(() => myDataChannel && myDataChannel.readyState === 'open', null, { timeout: T });
    await b.waitForFunction(() => myDataChannel && myDataChannel.readyState === 'open', null, { timeout: T });
    await a.evaluate(() => myDataChannel.send('머시기'));
    await b.waitForFunction(() => window.received.includes('머시기'), null, { timeout: T });
    assert.equal(await b.evaluate(() => document.getElementById('peerFace').videoWidth > 0), true);
    await shot(b, 'seed004-video');
    for (const p of [a, b]) assert.deepEqual(p.problems, []);
    for (const p of [a, b]) await p.context().close();
  });
}
