// Clip messages of yoom's UI protocol (docs/PROTOCOL.md, "Clips"): frames as
// Socket.IO binary attachments of chat:send; the ack once the clip is encoded
// and stored; chat:message with the clip's URL to the room; GET /clips/<key>.webm
// (video/webm, ETag, immutable, Range) and the poster; clips in the history
// (also after a restart); "busy, try again" when the encode queue is full.
import { test, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startYoom } from './lib/yoom.mjs';
import { client, connected, frames, next, request, JPEGS } from './fixtures/clients.mjs';

const socks = [];
function open(srv) { const s = client(srv.url, { auth: { yoom: 1 } }); socks.push(s); return s; }
after(() => { for (const s of socks) s.close(); });

async function stopOk(srv) {
  for (const s of socks) s.close();
  const code = await srv.stop();
  assert.equal(code, 0, `yoom exited with ${code}:\n${srv.stderr()}`);
}

async function join(s, room, name) {
  await connected(s);
  const res = await request(s, 'room:join', { room, name });
  assert.equal(res.ok, true, JSON.stringify(res));
  return res;
}

describe('clip messages', () => {
  test('frames as binary attachments -> ack with a clip URL; the room gets it; /clips serves it', { timeout: 90000 }, async () => {
    const srv = await startYoom();
    try {
      const a = open(srv);
      const b = open(srv);
      await join(a, 'clips', 'Ann');
      await join(b, 'clips', 'Bob');
      const res = await request(a, 'chat:send', { room: 'clips', text: 'look', frames: frames(10), clientId: 'k1' }, 30000);
      assert.equal(res.ok, true, JSON.stringify(res));
      const { clip } = res.message;
      assert.match(clip.url, /^\/clips\/[0-9a-f]{40}\.webm$/);
      assert.match(clip.poster, /^\/clips\/[0-9a-f]{40}\.jpg$/);
      assert.equal(clip.type, 'video/webm');
      const [heard] = await next(b, 'chat:message', 30000);
      assert.deepEqual(heard.clip, clip);
      assert.equal(heard.text, 'look');

      // The clip itself.
      const r = await fetch(srv.url + clip.url);
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('content-type'), 'video/webm');
      assert.match(r.headers.get('cache-control'), /immutable/);
      assert.equal(r.headers.get('accept-ranges'), 'bytes');
      const etag = r.headers.get('etag');
      assert.match(etag, /^"[0-9a-f]{40}"$/);
      const webm = Buffer.from(await r.arrayBuffer());
      assert.deepEqual(webm.subarray(0, 4), Buffer.from([0x1a, 0x45, 0xdf, 0xa3]));
      assert.ok(webm.includes(Buffer.from('V_VP8')));

      // Conditional GET.
      const nm = await fetch(srv.url + clip.url, { headers: { 'if-none-match': etag } });
      assert.equal(nm.status, 304);
      await nm.arrayBuffer();

      // Ranges.
      const r1 = await fetch(srv.url + clip.url, { headers: { range: 'bytes=0-99' } });
      assert.equal(r1.status, 206);
      assert.equal(r1.headers.get('content-range'), `bytes 0-99/${webm.length}`);
      assert.deepEqual(Buffer.from(await r1.arrayBuffer()), webm.subarray(0, 100));
      const r2 = await fetch(srv.url + clip.url, { headers: { range: 'bytes=-10' } });
      assert.equal(r2.status, 206);
      assert.deepEqual(Buffer.from(await r2.arrayBuffer()), webm.subarray(webm.length - 10));
      const r3 = await fetch(srv.url + clip.url, { headers: { range: `bytes=100-` } });
      assert.equal(r3.status, 206);
      assert.equal(r3.headers.get('content-range'), `bytes 100-${webm.length - 1}/${webm.length}`);
      assert.deepEqual(Buffer.from(await r3.arrayBuffer()), webm.subarray(100));
      const r4 = await fetch(srv.url + clip.url, { headers: { range: `bytes=${webm.length}-` } });
      assert.equal(r4.status, 416);
      assert.equal(r4.headers.get('content-range'), `bytes */${webm.length}`);
      await r4.arrayBuffer();
      const r5 = await fetch(srv.url + clip.url, { headers: { range: 'bytes=0-1,5-6' } });
      assert.equal(r5.status, 200, 'several ranges: the whole clip');
      await r5.arrayBuffer();
      const r6 = await fetch(srv.url + clip.url, { headers: { range: 'bytes=0-9', 'if-range': '"stale"' } });
      assert.equal(r6.status, 200, 'If-Range with another tag: the whole clip');
      await r6.arrayBuffer();

      // The poster is the first frame.
      const p = await fetch(srv.url + clip.poster);
      assert.equal(p.status, 200);
      assert.equal(p.headers.get('content-type'), 'image/jpeg');
      assert.deepEqual(Buffer.from(await p.arrayBuffer()), JPEGS[0]);

      // Unknown and malformed names.
      for (const u of ['/clips/' + '0'.repeat(40) + '.webm', '/clips/nope.webm', '/clips/' + 'A'.repeat(40) + '.webm']) {
        const x = await fetch(srv.url + u);
        assert.equal(x.status, 404, u);
        await x.arrayBuffer();
      }

      // A clip alone is a message; text-only messages still work.
      const alone = await request(a, 'chat:send', { room: 'clips', text: '', frames: frames(2) }, 30000);
      assert.equal(alone.ok, true, JSON.stringify(alone));
      assert.equal(alone.message.text, '');
      const plain = await request(a, 'chat:send', { room: 'clips', text: 'just text' });
      assert.equal(plain.message.clip, undefined);

      // A newcomer sees the clips in the history.
      const c = open(srv);
      const hist = await join(c, 'clips', 'Cy');
      assert.deepEqual(hist.messages.map((m) => Boolean(m.clip)), [true, true, false]);
      assert.deepEqual(hist.messages[0].clip, clip);
    } finally { await stopOk(srv); }
  });

  test('bad frames are refused with a clear error', { timeout: 60000 }, async () => {
    const srv = await startYoom({ args: ['--clip-max-frames', '5'] });
    try {
      const a = open(srv);
      await join(a, 'bad', 'Ann');
      const cases = [
        [{ room: 'bad', text: 'x', frames: ['not binary'] }, /binary attachments/],
        [{ room: 'bad', text: 'x', frames: [Buffer.from('not a jpeg')] }, /JPEG/i],
        [{ room: 'bad', text: 'x', frames: frames(6) }, /at most 5 frames/],
        [{ room: 'bad', text: 'x', frames: 'x' }, /Invalid arguments/],
        [{ room: 'bad', text: '', frames: [] }, /Messages must be/],
      ];
      for (const [payload, re] of cases) {
        const res = await request(a, 'chat:send', payload, 30000);
        assert.match(res.error ?? '', re, JSON.stringify(res));
      }
    } finally { await stopOk(srv); }
  });

  test('a full encode queue answers "busy, try again"; nothing crashes', { timeout: 90000 }, async () => {
    const srv = await startYoom({ args: ['--clip-queue', '1'] });
    try {
      const a = open(srv);
      await join(a, 'busy', 'Ann');
      const all = await Promise.all(Array.from({ length: 8 }, (_, i) =>
        request(a, 'chat:send', { room: 'busy', text: `clip ${i}`, frames: frames(10) }, 60000)));
      const busy = all.filter((r) => r.error);
      const ok = all.filter((r) => r.ok);
      assert.ok(busy.length >= 1, `expected a busy error: ${JSON.stringify(all.map((r) => r.error || 'ok'))}`);
      assert.ok(ok.length >= 1, 'the first clip is encoded');
      for (const r of busy) assert.match(r.error, /busy, try again/i);
      // Still alive and serving.
      const after1 = await request(a, 'chat:send', { room: 'busy', text: 'after', frames: frames(2) }, 30000);
      assert.equal(after1.ok, true);
    } finally { await stopOk(srv); }
  });

  test('SIGTERM with clips encoding and storing: clean exit, every request answered', { timeout: 90000 }, async () => {
    // The open WebSocket holds the HTTP shutdown until its deadline.
    const srv = await startYoom({ args: ['--shutdown-timeout-ms', '2000'] });
    const a = open(srv);
    await join(a, 'bye', 'Ann');
    const answers = Array.from({ length: 4 }, (_, i) =>
      request(a, 'chat:send', { room: 'bye', text: `last ${i}`, frames: frames(10) }, 30000)
        .then((r) => r, (e) => ({ transport: e.message })));
    const { jpegDataUri } = await import('./fixtures/clients.mjs');
    const post = fetch(`${srv.url}/process`, { method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ images: frames(10).map(jpegDataUri) }) }).then((r) => r.status, (e) => e.message);
    srv.proc.kill('SIGTERM');
    const code = await srv.exited;
    assert.equal(code, 0, `yoom exited with ${code}:\n${srv.stderr()}`);
    assert.doesNotMatch(srv.stderr(), /AddressSanitizer|LeakSanitizer|runtime error/);
    const got = await Promise.all(answers);
    if (process.env.YOOM_TEST_VERBOSE) console.log(got, await post);
    for (const r of got) {
      // Each clip is either stored and acked, refused, or cut off by the
      // closing connection: never left hanging until the timeout.
      assert.ok(r.ok || r.error || (r.transport && !/timed out/.test(r.transport)), JSON.stringify(r));
    }
    await post;
  });

  test('clip URLs from the history work after a restart', { timeout: 90000 }, async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'yoom-clips-'));
    let srv = await startYoom({ dataDir });
    const a = open(srv);
    await join(a, 'again', 'Ann');
    const res = await request(a, 'chat:send', { room: 'again', text: 'kept', frames: frames(3) }, 30000);
    const body = Buffer.from(await (await fetch(srv.url + res.message.clip.url)).arrayBuffer());
    await stopOk(srv);
    srv = await startYoom({ dataDir });
    try {
      const before = await fetch(srv.url + res.message.clip.url);
      assert.equal(before.status, 404, 'not in memory until someone reads the history');
      await before.arrayBuffer();
      const b = open(srv);
      const hist = await join(b, 'again', 'Bob');
      assert.equal(hist.messages[0].clip.url, res.message.clip.url, 'the same URL: the key is the content hash');
      const r = await fetch(srv.url + res.message.clip.url);
      assert.equal(r.status, 200);
      assert.deepEqual(Buffer.from(await r.arrayBuffer()), body);
    } finally { await stopOk(srv); }
  });
});
