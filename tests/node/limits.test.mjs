// The app limits that are flags (README.md, "Settings"), set low: each one
// refuses the first value over it with its clear error and accepts the value
// at it. The defaults are covered by the app, call and seed 000 suites.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { startYoom } from './lib/yoom.mjs';
import { connect, next, request as req } from './fixtures/clients.mjs';

let srv;
before(async () => {
  srv = await startYoom({ args: ['--no-stun', '--max-password-bytes', '16', '--max-candidate-bytes', '300',
    '--process-max-body-bytes', '2048'] });
});
after(async () => { if (srv) assert.equal(await srv.stop(), 0, srv.stderr()); });

test('--max-password-bytes: room:join and room:lock', { timeout: 30000 }, async () => {
  const a = await connect(srv.url);
  const b = await connect(srv.url);
  try {
    assert.deepEqual(await req(a, 'room:join', { room: 'pw', name: 'A', password: 'p'.repeat(17) }),
      { error: 'Passwords must be at most 16 bytes.' });
    assert.equal((await req(a, 'room:join', { room: 'pw', name: 'A', password: 'p'.repeat(16) })).ok, true);
    assert.deepEqual(await req(b, 'room:join', { room: 'pw', name: 'B', password: 'p'.repeat(17) }),
      { error: 'Passwords must be at most 16 bytes.' });
    assert.equal((await req(b, 'room:join', { room: 'pw', name: 'B', password: 'p'.repeat(16) })).ok, true);
    assert.deepEqual(await req(a, 'room:lock', { room: 'pw', password: 'q'.repeat(17) }),
      { error: 'Passwords must be at most 16 bytes.' });
  } finally { a.disconnect(); b.disconnect(); }
});

test('--max-candidate-bytes: call:signal candidates', { timeout: 30000 }, async () => {
  const a = await connect(srv.url);
  const b = await connect(srv.url);
  try {
    for (const [s, name] of [[a, 'A'], [b, 'B']]) {
      assert.equal((await req(s, 'room:join', { room: 'cand', name })).ok, true);
      assert.equal((await req(s, 'call:join', { room: 'cand' })).ok, true);
    }
    const cand = (n) => ({ candidate: 'c'.repeat(n), sdpMid: '0', sdpMLineIndex: 0 });
    assert.deepEqual(await req(a, 'call:signal', { room: 'cand', to: b.id, candidate: cand(301) }),
      { error: 'Invalid arguments.' });
    assert.equal((await req(a, 'call:signal', { room: 'cand', to: b.id, candidate: cand(300) })).ok, true);
    const [got] = await next(b, 'call:signal');
    assert.equal(got.candidate.candidate.length, 300, 'only the one at the limit was relayed');
  } finally { a.disconnect(); b.disconnect(); }
});

test('--process-max-body-bytes: POST /process', { timeout: 30000 }, async () => {
  const post = (n) => fetch(`${srv.url}/process`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ images: ['x'.repeat(n)] }),
  });
  const big = await post(2048);
  assert.equal(big.status, 413);
  await big.arrayBuffer();
  // At the limit the body is read and judged on its content (not a JPEG: 400).
  const small = await post(2048 - '{"images":[""]}'.length);
  assert.equal(small.status, 400);
  assert.match((await small.json()).error, /.+/);
});
