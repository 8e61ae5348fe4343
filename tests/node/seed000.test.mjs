// Seed 000's ("Animate") protocol against yoom, unchanged (docs/PROTOCOL.md,
// "Seed 000 clips"): message({id, message, frames}) with data-URI JPEGs ->
// message to everyone else and messageack to the sender, with the clip as a
// data:video/webm URI; messages([last N]) on connect, oldest first; and
// POST /process {images} -> {video} (200, 413 above 3 MB, 400 {error}).
import { test, after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startYoom } from './lib/yoom.mjs';
import { client, connected, frames, jpegDataUri, next, pending, sleep, JPEGS } from './fixtures/clients.mjs';

const WEBM_MAGIC = Buffer.from([0x1a, 0x45, 0xdf, 0xa3]);

function webmFromDataUri(uri) {
  const m = /^data:video\/webm;base64,([A-Za-z0-9+/]+=*)$/.exec(uri);
  assert.ok(m, `not a WebM data URI: ${String(uri).slice(0, 60)}`);
  const b = Buffer.from(m[1], 'base64');
  assert.deepEqual(b.subarray(0, 4), WEBM_MAGIC, 'EBML magic');
  assert.ok(b.includes(Buffer.from('webm')), 'DocType webm');
  assert.ok(b.includes(Buffer.from('V_VP8')), 'a VP8 track');
  return b;
}

describe('seed 000 protocol', () => {
  let srv;
  const socks = [];
  const open = (opts) => { const s = client(srv.url, opts); socks.push(s); return s; };
  before(async () => { srv = await startYoom(); });
  after(async () => {
    for (const s of socks) s.close();
    const code = await srv.stop();
    assert.equal(code, 0, `yoom exited with ${code}:\n${srv.stderr()}`);
  });

  test('message -> message to the others, messageack to the sender; messages on connect', { timeout: 60000 }, async () => {
    const a = open();
    const b = open({ transports: ['polling'] }); // the seed's client starts on long-polling
    await Promise.all([connected(a), connected(b)]);
    // A fresh server has no history: the replay is an empty list.
    const [initial] = await next(a, 'messages');
    assert.deepEqual(initial, []);
    await next(b, 'messages');

    const uris = frames(10).map(jpegDataUri);
    a.emit('message', { id: 'uuid-1', message: 'hola', frames: uris, extra: 7 });
    const [ack] = await next(a, 'messageack', 30000);
    const [got] = await next(b, 'message', 30000);
    assert.equal(ack.id, 'uuid-1');
    assert.equal(ack.message, 'hola');
    assert.equal(ack.frames, undefined, 'frames are not echoed');
    assert.equal(ack.extra, 7, 'other fields pass through, as in the seed');
    webmFromDataUri(ack.video);
    assert.deepEqual(got, ack, 'the others get the same message');
    await sleep(200);
    assert.equal(pending(a, 'message'), 0, 'the sender does not get its own message');
    assert.equal(pending(b, 'messageack'), 0, 'only the sender gets messageack');

    a.emit('message', { id: 'uuid-2', message: 'adiós', frames: uris.slice(0, 3) });
    const [ack2] = await next(a, 'messageack', 30000);
    assert.equal(ack2.message, 'adiós');
    await next(b, 'message', 30000);

    // A newcomer gets the last messages, oldest first, with their videos.
    const c = open();
    const [hist] = await next(c, 'messages');
    assert.deepEqual(hist.map((m) => [m.id, m.message]), [['uuid-1', 'hola'], ['uuid-2', 'adiós']]);
    for (const m of hist) webmFromDataUri(m.video);

    // yoom's own UI says so in its auth and is not sent the replay.
    const ui = open({ auth: { yoom: 1 } });
    await connected(ui);
    await sleep(300);
    assert.equal(pending(ui, 'messages'), 0);
  });

  test('a retry with the same id is acked with the original, stored once, not re-broadcast', { timeout: 60000 }, async () => {
    const a = open();
    const b = open();
    await Promise.all([connected(a), connected(b)]);
    await next(a, 'messages');
    await next(b, 'messages');
    const uris = frames(2).map(jpegDataUri);
    a.emit('message', { id: 'retry-1', message: 'once', frames: uris });
    const [first] = await next(a, 'messageack', 30000);
    await next(b, 'message', 30000);
    a.emit('message', { id: 'retry-1', message: 'once', frames: uris });
    const [second] = await next(a, 'messageack', 30000);
    assert.equal(second.id, 'retry-1');
    assert.equal(second.message, 'once');
    assert.equal(second.video, first.video, 'the original clip');
    await sleep(300);
    assert.equal(pending(b, 'message'), 0, 'a retry is not broadcast again');
    const c = open();
    const [hist] = await next(c, 'messages');
    assert.equal(hist.filter((m) => m.id === 'retry-1').length, 1);
  });

  test('bad messages get messageerror {id, error} and nothing is sent', { timeout: 30000 }, async () => {
    const a = open();
    const b = open();
    await Promise.all([connected(a), connected(b)]);
    const cases = [
      [{ id: 'e1', message: 'x' }, /frames/],
      [{ id: 'e2', message: 'x', frames: [] }, /1 to 10 frames/],
      [{ id: 'e3', message: 'x', frames: ['data:image/png;base64,AAAA'] }, /clip could not be made/],
      [{ id: 'e4', message: 'x', frames: [jpegDataUri(Buffer.from('not a jpeg at all'))] }, /JPEG/i],
      [{ id: 'e5', message: 'x', frames: frames(11).map(jpegDataUri) }, /1 to 10 frames/],
      [{ message: 'x', frames: [jpegDataUri(JPEGS[0])] }, /id/],
    ];
    for (const [msg, re] of cases) {
      a.emit('message', msg);
      const [e] = await next(a, 'messageerror');
      assert.match(e.error, re, JSON.stringify(msg).slice(0, 80));
      if (msg.id) assert.equal(e.id, msg.id);
    }
    // With an ack, the error comes in the ack too.
    const res = await a.timeout(5000).emitWithAck('message', { id: 'e6', message: 'x', frames: 'nope' });
    assert.match(res.error, /frames/);
    await sleep(300);
    assert.equal(pending(b, 'message'), 0);
  });
});

test('seed 000 history survives a clean restart', { timeout: 60000 }, async () => {
  const { mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const path = await import('node:path');
  const dataDir = mkdtempSync(path.join(tmpdir(), 'yoom-seed000-'));
  let srv = await startYoom({ dataDir, args: ['--no-stun'] });
  const a = client(srv.url);
  await connected(a);
  a.emit('message', { id: 'keep-1', message: 'still here', frames: frames(3).map(jpegDataUri) });
  const [ack] = await next(a, 'messageack', 30000);
  a.close();
  assert.equal(await srv.stop(), 0, srv.stderr());
  srv = await startYoom({ dataDir, args: ['--no-stun'] });
  const b = client(srv.url);
  try {
    const [hist] = await next(b, 'messages');
    assert.deepEqual(hist.map((m) => [m.id, m.message]), [['keep-1', 'still here']]);
    assert.equal(hist[0].video, ack.video);
  } finally {
    b.close();
    assert.equal(await srv.stop(), 0, srv.stderr());
  }
});

describe('POST /process', () => {
  let srv;
  before(async () => { srv = await startYoom(); });
  after(async () => {
    const code = await srv.stop();
    assert.equal(code, 0, `yoom exited with ${code}:\n${srv.stderr()}`);
  });
  const post = (body, type = 'application/json') => fetch(`${srv.url}/process`, {
    method: 'POST', headers: { 'content-type': type }, body,
  });

  test('200 with {video} for data-URI JPEGs', { timeout: 60000 }, async () => {
    const res = await post(JSON.stringify({ images: frames(10).map(jpegDataUri) }));
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /^application\/json/);
    const { video } = await res.json();
    webmFromDataUri(video);
  });

  test('413 above 3 MB', { timeout: 30000 }, async () => {
    const big = 'A'.repeat(3 * 1024 * 1024 + 10);
    const res = await post(JSON.stringify({ images: [`data:image/jpeg;base64,${big}`] }));
    assert.equal(res.status, 413);
    await res.arrayBuffer();
  });

  test('400 with {error} when images is missing or invalid', { timeout: 30000 }, async () => {
    for (const body of ['{}', '{"images": []}', '{"images": "x"}', 'not json', '{"images": [1]}',
      JSON.stringify({ images: ['data:image/jpeg;base64,!!!!'] }),
      JSON.stringify({ images: [jpegDataUri(Buffer.from('nope nope'))] })]) {
      const res = await post(body);
      assert.equal(res.status, 400, body.slice(0, 40));
      const j = await res.json();
      assert.equal(typeof j.error, 'string');
      assert.ok(j.error.length > 0);
    }
  });

  test('other methods get 405', { timeout: 30000 }, async () => {
    const res = await fetch(`${srv.url}/process`);
    assert.equal(res.status, 405);
    await res.arrayBuffer();
  });
});
