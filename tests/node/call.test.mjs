// yoom's call signalling (docs/PROTOCOL.md, "Calls (signalling)"): call:join,
// call:leave, call:state and call:signal addressed to one member of the same
// room, stamped with the sender; room isolation; size limits.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { startYoom } from './lib/yoom.mjs';
import { client, connected, count, next, request as req, sleep } from './fixtures/clients.mjs';

// Long enough for a stray relay to arrive over loopback, so "nothing came"
// means something; no assertion depends on how fast it is.
const QUIET_MS = 300;

async function joined(url, room, name) {
  const s = client(url);
  await connected(s);
  const res = await req(s, 'room:join', { room, name });
  assert.equal(res.ok, true, JSON.stringify(res));
  return s;
}

const OFFER = { type: 'offer', sdp: 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n' };
const CAND = { candidate: 'candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host', sdpMid: '0', sdpMLineIndex: 0, usernameFragment: 'abcd' };

let srv;
const socks = [];
before(async () => { srv = await startYoom(); });
after(async () => {
  for (const s of socks) s.close();
  if (srv) assert.equal(await srv.stop(), 0, srv.stderr());
});

test('signals go only to the addressed member of the same room, stamped with the sender', { timeout: 60000 }, async () => {
  const a = await joined(srv.url, 'call-1', 'Ann');
  const b = await joined(srv.url, 'call-1', 'Ben');
  const c = await joined(srv.url, 'call-1', 'Cat');
  const d = await joined(srv.url, 'call-1', 'Dan');   // in the room, never in the call
  const x = await joined(srv.url, 'call-other', 'Xi'); // another room
  socks.push(a, b, c, d, x);

  // A joins first: nobody to call yet.
  let res = await req(a, 'call:join', { room: 'call-1', audio: true, video: true });
  assert.deepEqual(res, { ok: true, id: a.id, peers: [] });
  const aPeer = { id: a.id, name: 'Ann', audio: true, video: true, screen: false };
  for (const s of [b, c, d]) assert.deepEqual(await next(s, 'call:peer-join'), [{ room: 'call-1', peer: aPeer }]);
  // B learns A is in the call; A, C and D hear that B joined; X hears nothing.
  res = await req(b, 'call:join', { room: 'call-1', audio: true, video: false });
  assert.deepEqual(res, { ok: true, id: b.id, peers: [aPeer] });
  const bPeer = { id: b.id, name: 'Ben', audio: true, video: false, screen: false };
  for (const s of [a, c, d]) assert.deepEqual(await next(s, 'call:peer-join'), [{ room: 'call-1', peer: bPeer }]);
  res = await req(c, 'call:join', { room: 'call-1' }); // media default to on
  assert.deepEqual(res.peers.map((p) => p.id).sort(), [a.id, b.id].sort());
  await next(a, 'call:peer-join');
  await next(b, 'call:peer-join');
  assert.equal(await req(a, 'call:join', { room: 'call-1' }).then((r) => r.error), 'You are already in the call.');

  // A → B: a description. A forged "from" is overwritten by the server.
  res = await req(a, 'call:signal', { room: 'call-1', to: b.id, from: c.id, description: OFFER });
  assert.deepEqual(res, { ok: true });
  assert.deepEqual(await next(b, 'call:signal'), [{ room: 'call-1', from: a.id, description: OFFER }]);
  // B → A: a candidate, then the end-of-candidates null.
  await req(b, 'call:signal', { room: 'call-1', to: a.id, candidate: CAND });
  assert.deepEqual(await next(a, 'call:signal'), [{ room: 'call-1', from: b.id, candidate: CAND }]);
  await req(b, 'call:signal', { room: 'call-1', to: a.id, candidate: null });
  assert.deepEqual(await next(a, 'call:signal'), [{ room: 'call-1', from: b.id, candidate: null }]);
  // Unknown fields of a candidate are not relayed.
  await req(b, 'call:signal', { room: 'call-1', to: a.id, candidate: { candidate: '', sdpMid: null, evil: '<x>' } });
  assert.deepEqual(await next(a, 'call:signal'), [{ room: 'call-1', from: b.id, candidate: { candidate: '', sdpMid: null } }]);

  // Targets outside the call or the room get nothing.
  assert.equal((await req(a, 'call:signal', { room: 'call-1', to: d.id, description: OFFER })).error, 'That person is not in this call.');
  assert.equal((await req(a, 'call:signal', { room: 'call-1', to: x.id, description: OFFER })).error, 'That person is not in this call.');
  assert.equal((await req(a, 'call:signal', { room: 'call-1', to: a.id, description: OFFER })).error, 'That person is not in this call.');
  assert.equal((await req(a, 'call:signal', { room: 'call-1', to: 'nobody', candidate: CAND })).error, 'That person is not in this call.');
  // X is not a member of call-1 and cannot reach into it, nor into A's private room.
  assert.equal((await req(x, 'call:signal', { room: 'call-1', to: a.id, description: OFFER })).error, 'You are not in this room.');
  assert.equal((await req(x, 'call:signal', { room: a.id, to: a.id, description: OFFER })).error, 'You are not in this room.');
  // D is in the room but not in the call.
  assert.equal((await req(d, 'call:signal', { room: 'call-1', to: a.id, description: OFFER })).error, 'You are not in the call.');
  assert.equal((await req(d, 'call:state', { room: 'call-1', audio: false })).error, 'You are not in the call.');

  // Media state goes to the rest of the room.
  assert.deepEqual(await req(b, 'call:state', { room: 'call-1', audio: false, video: true, screen: true }), { ok: true });
  const bState = { room: 'call-1', peer: { id: b.id, name: 'Ben', audio: false, video: true, screen: true } };
  for (const s of [a, c, d]) assert.deepEqual(await next(s, 'call:peer-state'), [bState]);

  // Leaving the call: the others hear it; B can no longer be signalled.
  assert.deepEqual(await req(b, 'call:leave', { room: 'call-1' }), { ok: true });
  for (const s of [a, c, d]) assert.deepEqual((await next(s, 'call:peer-leave'))[0].peer.id, b.id);
  assert.deepEqual(await req(b, 'call:leave', { room: 'call-1' }), { ok: true }); // twice is harmless
  assert.equal((await req(a, 'call:signal', { room: 'call-1', to: b.id, description: OFFER })).error, 'That person is not in this call.');

  // Disconnecting leaves the room (member:leave tells the UI to hang up).
  const cId = c.id; // socket.io-client forgets its id on close
  c.close();
  assert.equal((await next(a, 'member:leave'))[0].member.id, cId);
  assert.equal((await req(a, 'call:signal', { room: 'call-1', to: cId, description: OFFER })).error, 'That person is not in this call.');

  await sleep(QUIET_MS);
  // Exactly what was addressed arrived: B got one signal, A three, nobody else any.
  assert.equal(count(b, 'call:signal'), 1);
  assert.equal(count(a, 'call:signal'), 3);
  for (const s of [d, x]) assert.equal(count(s, 'call:signal'), 0, JSON.stringify(s.seen));
  for (const ev of ['call:peer-join', 'call:peer-state', 'call:peer-leave']) assert.equal(count(x, ev), 0);
});

test('rooms are isolated: the same ids in another room reach nobody', { timeout: 30000 }, async () => {
  const a = await joined(srv.url, 'iso-1', 'A');
  const b = await joined(srv.url, 'iso-2', 'B');
  socks.push(a, b);
  await req(a, 'call:join', { room: 'iso-1' });
  await req(b, 'call:join', { room: 'iso-2' });
  // Each is alone in its call; neither heard of the other.
  assert.equal((await req(a, 'call:signal', { room: 'iso-1', to: b.id, description: OFFER })).error, 'That person is not in this call.');
  assert.equal((await req(a, 'call:signal', { room: 'iso-2', to: b.id, description: OFFER })).error, 'You are not in this room.');
  await sleep(QUIET_MS);
  assert.equal(count(b, 'call:signal') + count(b, 'call:peer-join') + count(a, 'call:peer-join'), 0);
});

test('invalid signals are refused and change nothing', { timeout: 30000 }, async () => {
  const a = await joined(srv.url, 'bad-1', 'A');
  const b = await joined(srv.url, 'bad-1', 'B');
  socks.push(a, b);
  await req(a, 'call:join', { room: 'bad-1' });
  await req(b, 'call:join', { room: 'bad-1' });
  await next(a, 'call:peer-join');
  const bad = [
    { room: 'bad-1', to: b.id },                                            // neither
    { room: 'bad-1', to: b.id, description: OFFER, candidate: CAND },       // both
    { room: 'bad-1', to: b.id, description: { type: 'bogus', sdp: '' } },
    { room: 'bad-1', to: b.id, description: { type: 'offer', sdp: 5 } },
    { room: 'bad-1', to: b.id, description: 'v=0' },
    { room: 'bad-1', to: b.id, candidate: { candidate: 7 } },
    { room: 'bad-1', to: b.id, candidate: { candidate: 'x', sdpMLineIndex: -1 } },
    { room: 'bad-1', to: b.id, candidate: { candidate: 'x', sdpMid: 3 } },
    { room: 'bad-1', to: b.id, candidate: { candidate: 'x'.repeat(4097) } },
    { room: 'bad-1', to: 5, description: OFFER },
    { room: 5, to: b.id, description: OFFER },
  ];
  for (const p of bad) {
    const res = await req(a, 'call:signal', p);
    assert.equal(res.error, 'Invalid arguments.', JSON.stringify(p).slice(0, 200));
  }
  assert.equal((await req(a, 'call:state', { room: 'bad-1', audio: 'yes' })).error, 'Invalid arguments.');
  assert.equal((await req(a, 'call:join', 'bad-1')).error, 'Invalid arguments.');
  await sleep(QUIET_MS);
  assert.equal(count(b, 'call:signal'), 0);
  assert.equal(count(b, 'call:peer-state'), 0);
});

test('session descriptions are limited to 64 KB by default', { timeout: 30000 }, async () => {
  const a = await joined(srv.url, 'big-1', 'A');
  const b = await joined(srv.url, 'big-1', 'B');
  socks.push(a, b);
  await req(a, 'call:join', { room: 'big-1' });
  await req(b, 'call:join', { room: 'big-1' });
  const sdp = (n) => 'v=0\r\n' + 'a'.repeat(n - 5);
  // Exactly the limit passes.
  assert.deepEqual(await req(a, 'call:signal', { room: 'big-1', to: b.id, description: { type: 'offer', sdp: sdp(65536) } }), { ok: true });
  assert.equal((await next(b, 'call:signal'))[0].description.sdp.length, 65536);
  // One byte more is refused, and so is an argument far beyond it (checked before parsing).
  const msg = 'Session descriptions must be at most 65536 bytes.';
  assert.equal((await req(a, 'call:signal', { room: 'big-1', to: b.id, description: { type: 'offer', sdp: sdp(65537) } })).error, msg);
  assert.equal((await req(a, 'call:signal', { room: 'big-1', to: b.id, description: { type: 'offer', sdp: sdp(300000) } })).error, msg);
  // Same for seed 004's relay events.
  a.emit('join_room', 'big-1');
  await next(b, 'welcome');
  assert.equal((await new Promise((r) => a.emit('offer', { type: 'offer', sdp: sdp(300000) }, 'big-1', r))).error, msg);
  await sleep(QUIET_MS);
  assert.equal(count(b, 'call:signal'), 1);
  assert.equal(count(b, 'offer'), 0);
});

test('--max-sdp-bytes sets the limit', { timeout: 30000 }, async () => {
  const small = await startYoom({ args: ['--max-sdp-bytes', '2048', '--no-stun'] });
  const a = await joined(small.url, 'lim', 'A');
  const b = await joined(small.url, 'lim', 'B');
  try {
    await req(a, 'call:join', { room: 'lim' });
    await req(b, 'call:join', { room: 'lim' });
    assert.deepEqual(await req(a, 'call:signal', { room: 'lim', to: b.id, description: { type: 'answer', sdp: 'x'.repeat(2048) } }), { ok: true });
    assert.equal((await req(a, 'call:signal', { room: 'lim', to: b.id, description: { type: 'answer', sdp: 'x'.repeat(2049) } })).error,
      'Session descriptions must be at most 2048 bytes.');
  } finally {
    a.close();
    b.close();
    assert.equal(await small.stop(), 0, small.stderr());
  }
});
