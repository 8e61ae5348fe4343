// Seed 004's chat protocol, driven exactly as the seed's own client does,
// with three clients: nicknames, enter_room, welcome counts, new_message
// relays, bye counts and room_change lists.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { startYoom } from './lib/yoom.mjs';
import { client, connected, emitAck, next, pending } from './fixtures/clients.mjs';

const sorted = (a) => [...a].sort();

let srv;
before(async () => { srv = await startYoom(); });
after(async () => { if (srv) assert.equal(await srv.stop(), 0, srv.stderr()); });

test('seed 004 chat flow with three clients', { timeout: 60000 }, async () => {
  const a = client(srv.url);
  const b = client(srv.url);
  // The third client uses the default transports (polling, then upgrade), as a browser would.
  const c = client(srv.url, { transports: ['polling', 'websocket'] });
  try {
    await Promise.all([connected(a), connected(b), connected(c)]);

    // nickname(name): no ack in the seed. C keeps the default "Anon".
    a.emit('nickname', 'Alice');
    b.emit('nickname', 'Bob');

    // A enters room1: ack() with no arguments, room_change to everyone.
    assert.deepEqual(await emitAck(a, 'enter_room', 'room1'), []);
    for (const s of [a, b, c]) assert.deepEqual(await next(s, 'room_change'), [['room1']]);

    // B enters room1: A (only) gets welcome("Bob", 2).
    assert.deepEqual(await emitAck(b, 'enter_room', 'room1'), []);
    assert.deepEqual(await next(a, 'welcome'), ['Bob', 2]);
    for (const s of [a, b, c]) assert.deepEqual(await next(s, 'room_change'), [['room1']]);
    assert.equal(pending(b, 'welcome'), 0, 'the one entering gets no welcome');
    assert.equal(pending(c, 'welcome'), 0, 'other rooms get no welcome');

    // C enters room2 alone: nobody is welcomed, the list has both rooms.
    assert.deepEqual(await emitAck(c, 'enter_room', 'room2'), []);
    for (const s of [a, b, c]) assert.deepEqual(sorted((await next(s, 'room_change'))[0]), ['room1', 'room2']);

    // new_message(text, room, ack): relayed as "nick: text" to the others in the room.
    assert.deepEqual(await emitAck(a, 'new_message', 'hello there', 'room1'), []);
    assert.deepEqual(await next(b, 'new_message'), ['Alice: hello there']);
    assert.deepEqual(await emitAck(b, 'new_message', '안녕하세요 😀', 'room1'), []);
    assert.deepEqual(await next(a, 'new_message'), ['Bob: 안녕하세요 😀']);
    // C joins room1 too, as "Anon": welcome count is now 3.
    assert.deepEqual(await emitAck(c, 'enter_room', 'room1'), []);
    assert.deepEqual(await next(a, 'welcome'), ['Anon', 3]);
    assert.deepEqual(await next(b, 'welcome'), ['Anon', 3]);
    for (const s of [a, b, c]) assert.deepEqual(sorted((await next(s, 'room_change'))[0]), ['room1', 'room2']);
    assert.deepEqual(await emitAck(c, 'new_message', 'hi all', 'room1'), []);
    assert.deepEqual(await next(a, 'new_message'), ['Anon: hi all']);
    assert.deepEqual(await next(b, 'new_message'), ['Anon: hi all']);
    // Nobody got their own message back.
    assert.equal(pending(a, 'new_message') + pending(b, 'new_message') + pending(c, 'new_message'), 0);

    // A renames itself; later relays use the new nickname.
    a.emit('nickname', 'Alicia');
    assert.deepEqual(await emitAck(a, 'new_message', 'renamed', 'room1'), []);
    assert.deepEqual(await next(b, 'new_message'), ['Alicia: renamed']);
    assert.deepEqual(await next(c, 'new_message'), ['Alicia: renamed']);

    // B leaves: bye("Bob", 2) to room1 (A and C), room_change to those left.
    b.disconnect();
    assert.deepEqual(await next(a, 'bye'), ['Bob', 2]);
    assert.deepEqual(await next(c, 'bye'), ['Bob', 2]);
    for (const s of [a, c]) assert.deepEqual(sorted((await next(s, 'room_change'))[0]), ['room1', 'room2']);

    // C leaves: bye("Anon", 1) to A in room1; room2 is gone from the list.
    c.disconnect();
    assert.deepEqual(await next(a, 'bye'), ['Anon', 1]);
    assert.deepEqual(await next(a, 'room_change'), [['room1']]);
    assert.equal(pending(a, 'bye'), 0);
  } finally {
    a.disconnect(); b.disconnect(); c.disconnect();
  }
});

test('seed 004: a room_change list never contains socket ids', { timeout: 30000 }, async () => {
  const a = client(srv.url);
  const b = client(srv.url);
  try {
    await Promise.all([connected(a), connected(b)]);
    assert.deepEqual(await emitAck(a, 'enter_room', 'lonely'), []);
    const [rooms] = await next(a, 'room_change');
    assert.ok(rooms.includes('lonely'));
    assert.ok(!rooms.includes(a.id) && !rooms.includes(b.id), JSON.stringify(rooms));
    // Entering a room named like another socket's id would read its private traffic.
    const [res] = await emitAck(a, 'enter_room', b.id);
    assert.deepEqual(res, { error: 'This room name is reserved.' });
  } finally {
    a.disconnect(); b.disconnect();
  }
});

test('seed 004: bad input gets an {error} ack and nothing else', { timeout: 30000 }, async () => {
  const a = client(srv.url);
  const w = client(srv.url); // a watcher: must see no room_change for bad input
  try {
    await Promise.all([connected(a), connected(w)]);
    const roomErr = 'Room names must be 1 to 64 characters without control characters.';
    assert.deepEqual(await emitAck(a, 'enter_room', ''), [{ error: roomErr }]);
    assert.deepEqual(await emitAck(a, 'enter_room', '   '), [{ error: roomErr }]);
    assert.deepEqual(await emitAck(a, 'enter_room', 'x'.repeat(65)), [{ error: roomErr }]);
    assert.deepEqual(await emitAck(a, 'enter_room', 'bad\u0007room'), [{ error: roomErr }]);
    assert.deepEqual(await emitAck(a, 'enter_room', 42), [{ error: 'Invalid arguments.' }]);
    assert.deepEqual(await emitAck(a, 'nickname', ''), [{ error: 'Nicknames must be 1 to 32 characters without control characters.' }]);
    assert.deepEqual(await emitAck(a, 'nickname', 'n'.repeat(33)), [{ error: 'Nicknames must be 1 to 32 characters without control characters.' }]);
    assert.deepEqual(await emitAck(a, 'new_message', 'hi', 'not-joined'), [{ error: 'You are not in this room.' }]);
    assert.deepEqual(await emitAck(a, 'enter_room', 'ok-room'), []);
    assert.deepEqual(await emitAck(a, 'new_message', 'x'.repeat(2001), 'ok-room'), [{ error: 'Messages must be 1 to 2000 characters.' }]);
    assert.deepEqual(await emitAck(a, 'new_message', '', 'ok-room'), [{ error: 'Messages must be 1 to 2000 characters.' }]);
    assert.deepEqual(await emitAck(a, 'new_message', 'a\u0000b', 'ok-room'), [{ error: 'Messages cannot contain control characters.' }]);
    // 64 Hangul syllables are a fine room name (characters, not bytes).
    assert.deepEqual(await emitAck(a, 'enter_room', '방'.repeat(64)), []);
    // Exactly two room_change broadcasts reached the watcher: ok-room and the Hangul room.
    const [first] = await next(w, 'room_change');
    const [second] = await next(w, 'room_change');
    assert.deepEqual(first, ['ok-room']);
    assert.deepEqual(sorted(second), sorted(['ok-room', '방'.repeat(64)]));
    await emitAck(w, 'enter_room', 'sync'); // a barrier: anything else would have arrived by now
    await next(w, 'room_change');
    assert.equal(pending(w, 'room_change'), 0);
    assert.equal(pending(w, 'new_message'), 0);
  } finally {
    a.disconnect(); w.disconnect();
  }
});
