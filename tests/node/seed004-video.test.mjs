// Seed 004's video protocol, driven exactly as the seed's client does:
// join_room(room) (with and without the `done` callback), welcome() to the
// others, offer/answer/ice(payload, room) relayed to the rest of the room with
// their first argument only. Nothing leaves the room.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { startYoom } from './lib/yoom.mjs';
import { client, connected, count, next, sleep } from './fixtures/clients.mjs';

const QUIET_MS = 300;

// What the seed's RTCPeerConnection hands its handlers.
const OFFER = { type: 'offer', sdp: 'v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n' };
const ANSWER = { type: 'answer', sdp: 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n' };
const ICE = { candidate: 'candidate:842163049 1 udp 1677729535 127.0.0.1 46154 typ srflx raddr 0.0.0.0 rport 0 generation 0', sdpMid: '0', sdpMLineIndex: 0, usernameFragment: 'Zx9k' };

let srv;
before(async () => { srv = await startYoom({ args: ['--no-stun'] }); });
after(async () => { if (srv) assert.equal(await srv.stop(), 0, srv.stderr()); });

test('seed 004 video flow: join_room, welcome, offer/answer/ice relayed with the first argument', { timeout: 60000 }, async () => {
  const a = client(srv.url);
  const b = client(srv.url, { transports: ['polling', 'websocket'] }); // as a browser connects
  const other = client(srv.url);   // same event names, another room
  const outsider = client(srv.url); // in no room at all
  try {
    await Promise.all([a, b, other, outsider].map(connected));

    // The first version of the seed: join_room(room) with no callback.
    a.emit('join_room', 'video1');
    other.emit('join_room', 'video2');
    // The later version: join_room(room, done); the server calls done() with no arguments.
    const doneArgs = await new Promise((resolve) => b.emit('join_room', 'video1', (...args) => resolve(args)));
    assert.deepEqual(doneArgs, []);
    // A (already there) is welcomed with no arguments, as the seed's server
    // does; the seed's notes spell the event "Welcome", so both spellings come.
    assert.deepEqual(await next(a, 'welcome'), []);
    assert.deepEqual(await next(a, 'Welcome'), []);

    // A's welcome handler makes an offer; B gets exactly the first argument.
    a.emit('offer', OFFER, 'video1');
    assert.deepEqual(await next(b, 'offer'), [OFFER]);
    b.emit('answer', ANSWER, 'video1');
    assert.deepEqual(await next(a, 'answer'), [ANSWER]);
    a.emit('ice', ICE, 'video1');
    assert.deepEqual(await next(b, 'ice'), [ICE]);
    // The seed sends the end of candidates (event.candidate === null) as is.
    b.emit('ice', null, 'video1');
    assert.deepEqual(await next(a, 'ice'), [null]);

    // Nothing reaches a room the sender is not in, or a socket's private room.
    outsider.emit('offer', OFFER, 'video1');
    outsider.emit('ice', ICE, a.id);
    a.emit('offer', OFFER, b.id);
    a.emit('offer', OFFER, 'video2');
    // Malformed ones are dropped (and answered with an error if an ack was asked).
    const err = await new Promise((resolve) => a.emit('offer', 'not an object', 'video1', resolve));
    assert.deepEqual(err, { error: 'Invalid arguments.' });
    const notIn = await new Promise((resolve) => outsider.emit('answer', ANSWER, 'video1', resolve));
    assert.deepEqual(notIn, { error: 'You are not in this room.' });

    await sleep(QUIET_MS);
    assert.equal(count(b, 'offer'), 1);
    assert.equal(count(a, 'offer'), 0);   // never back to the sender
    assert.equal(count(a, 'ice'), 1);
    assert.equal(count(a, 'welcome'), 1);
    assert.equal(count(b, 'welcome') + count(b, 'Welcome'), 0); // not to the joiner itself
    for (const ev of ['welcome', 'Welcome', 'offer', 'answer', 'ice']) {
      assert.equal(count(other, ev), 0, `${ev} leaked to another room`);
      assert.equal(count(outsider, ev), 0, `${ev} leaked outside`);
    }
  } finally {
    for (const s of [a, b, other, outsider]) s.close();
  }
});

test('seed video clients count as room members (cap, member lists)', { timeout: 30000 }, async () => {
  const small = await startYoom({ args: ['--no-stun', '--max-room-members', '2'] });
  const a = client(small.url);
  const b = client(small.url);
  const c = client(small.url);
  const ui = client(small.url);
  try {
    await Promise.all([a, b, c, ui].map(connected));
    a.emit('nickname', 'Alice');
    assert.deepEqual(await new Promise((r) => a.emit('join_room', 'cap', (...x) => r(x))), []);
    assert.deepEqual(await new Promise((r) => b.emit('join_room', 'cap', (...x) => r(x))), []);
    const full = await new Promise((r) => c.emit('join_room', 'cap', r));
    assert.deepEqual(full, { error: 'This room is full (2 members).' });
    // Joining again is harmless: the others are welcomed again, membership unchanged.
    await next(a, 'welcome');
    assert.deepEqual(await new Promise((r) => b.emit('join_room', 'cap', (...x) => r(x))), []);
    await next(a, 'welcome');
    const list = await new Promise((r) => ui.emit('rooms:list', {}, r));
    assert.deepEqual(list.rooms, [{ name: 'cap', count: 2, locked: false, creator: 'Alice' }]);
    await sleep(QUIET_MS);
    assert.equal(count(c, 'welcome'), 0);
  } finally {
    for (const s of [a, b, c, ui]) s.close();
    assert.equal(await small.stop(), 0, small.stderr());
  }
});
