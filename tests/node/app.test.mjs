// yoom's own app protocol (docs/PROTOCOL.md, "yoom app protocol"): the room
// list with counts, joining, unique display names, member join/leave, chat
// messages with id/ts/sender, every validation error, password-locked rooms,
// the member cap, the /r/<room> page, and seed 004 clients in yoom rooms.
import { test, after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startYoom } from './lib/yoom.mjs';
import { client, connect, next, pending, request as req } from './fixtures/clients.mjs';

// Asserts that an error ack changed nothing: no broadcast reached the watcher
// (the watcher's own request is a barrier: the server handles events in order).
async function assertQuiet(watcher) {
  await req(watcher, 'rooms:list', {});
  for (const ev of ['rooms', 'room_change', 'member:join', 'member:leave', 'chat:message', 'welcome'])
    assert.equal(pending(watcher, ev), 0, `unexpected ${ev}: ${JSON.stringify(watcher.queues.get(ev))}`);
}

// The lobby broadcast: yoom's `rooms` and the seed's `room_change` go together.
async function lobby(s) {
  const [r] = await next(s, 'rooms');
  await next(s, 'room_change');
  return r.rooms;
}

const closeAll = (...ss) => ss.forEach((s) => s.disconnect());
const ROOM_ERR = 'Room names must be 1 to 64 characters without control characters.';
const NICK_ERR = 'Nicknames must be 1 to 32 characters without control characters.';

describe('yoom app protocol (default limits)', () => {
  let srv;
  before(async () => { srv = await startYoom(); });
  after(async () => { if (srv) assert.equal(await srv.stop(), 0, srv.stderr()); });

  test('room list, join, unique names, members, chat, leave', { timeout: 60000 }, async () => {
    const a = await connect(srv.url);
    const b = await connect(srv.url);
    const w = await connect(srv.url); // sees the lobby only
    try {
      assert.deepEqual(await req(w, 'rooms:list', {}), { ok: true, rooms: [] });

      const ja = await req(a, 'room:join', { room: '  Design review ', name: ' Mina ' });
      assert.equal(ja.ok, true);
      assert.deepEqual(ja.room, { name: 'Design review', count: 1, locked: false, creator: 'Mina' });
      assert.deepEqual(ja.you, { id: a.id, name: 'Mina', creator: true });
      assert.deepEqual(ja.members, [ja.you]);
      for (const s of [a, b, w]) {
        assert.deepEqual(await next(s, 'rooms'), [{ rooms: [{ name: 'Design review', count: 1, locked: false, creator: 'Mina' }] }]);
      }

      // Same name in the same room: made unique.
      const jb = await req(b, 'room:join', { room: 'Design review', name: 'Mina' });
      assert.deepEqual(jb.you, { id: b.id, name: 'Mina (2)', creator: false });
      assert.deepEqual(jb.members.map((m) => m.name), ['Mina', 'Mina (2)']);
      assert.equal(jb.room.count, 2);
      assert.deepEqual(await next(a, 'member:join'), [{ room: 'Design review', member: jb.you, count: 2 }]);
      assert.equal(pending(b, 'member:join'), 0, 'the joiner is not told about itself');
      assert.equal((await next(w, 'rooms'))[0].rooms[0].count, 2);

      // Chat: server-assigned id, timestamp and sender; ack to the sender, event to the others.
      const before = Date.now();
      const sent = await req(a, 'chat:send', { room: 'Design review', text: '  hello <b>world</b>\nline 2 ' });
      assert.equal(sent.ok, true);
      const m = sent.message;
      assert.equal(typeof m.id, 'string');
      assert.ok(m.id.length >= 8);
      assert.equal(m.room, 'Design review');
      assert.deepEqual(m.from, ja.you);
      assert.equal(m.text, 'hello <b>world</b>\nline 2');
      assert.ok(m.ts >= before - 60000 && m.ts <= Date.now() + 60000, `ts ${m.ts}`);
      assert.deepEqual(await next(b, 'chat:message'), [m]);
      const sent2 = await req(b, 'chat:send', { room: 'Design review', text: '답장 👋' });
      assert.notEqual(sent2.message.id, m.id);
      assert.equal(sent2.message.from.name, 'Mina (2)');
      assert.deepEqual(await next(a, 'chat:message'), [sent2.message]);
      assert.equal(pending(a, 'chat:message') + pending(b, 'chat:message') + pending(w, 'chat:message'), 0);

      // Leave: member:leave to the others, counts follow, the creator stays the creator.
      assert.deepEqual(await req(a, 'room:leave', { room: 'Design review' }), { ok: true });
      assert.deepEqual(await next(b, 'member:leave'), [{ room: 'Design review', member: ja.you, count: 1 }]);
      assert.deepEqual((await next(w, 'rooms'))[0].rooms, [{ name: 'Design review', count: 1, locked: false, creator: 'Mina' }]);
      assert.deepEqual(await req(a, 'chat:send', { room: 'Design review', text: 'still here?' }), { error: 'You are not in this room.' });
      assert.deepEqual(await req(a, 'room:leave', { room: 'Design review' }), { error: 'You are not in this room.' });

      // The last one leaving (by disconnecting) ends the room.
      b.disconnect();
      assert.deepEqual(await next(w, 'rooms'), [{ rooms: [] }]);
      assert.deepEqual(await req(w, 'rooms:list', {}), { ok: true, rooms: [] });
    } finally {
      closeAll(a, b, w);
    }
  });

  test('disconnecting members are announced and counted down', { timeout: 30000 }, async () => {
    const a = await connect(srv.url);
    const b = await connect(srv.url);
    try {
      await req(a, 'room:join', { room: 'r-disc', name: 'Ann' });
      await lobby(a);
      const jb = await req(b, 'room:join', { room: 'r-disc', name: 'Ben' });
      await next(a, 'member:join');
      assert.equal((await lobby(a)).find((r) => r.name === 'r-disc').count, 2);
      b.disconnect();
      assert.deepEqual(await next(a, 'member:leave'), [{ room: 'r-disc', member: jb.you, count: 1 }]);
      assert.equal((await lobby(a)).find((r) => r.name === 'r-disc').count, 1);
    } finally {
      closeAll(a, b);
    }
  });

  test('every validation error gets a clear {error} and changes nothing', { timeout: 60000 }, async () => {
    const a = await connect(srv.url);
    const w = await connect(srv.url);
    try {
      await req(a, 'room:join', { room: 'valid', name: 'Val' });
      await lobby(w);
      const cases = [
        // [event, payload, error]
        ['room:join', { room: '', name: 'x' }, ROOM_ERR],
        ['room:join', { room: ' \t ', name: 'x' }, ROOM_ERR],
        ['room:join', { room: 'r'.repeat(65), name: 'x' }, ROOM_ERR],
        ['room:join', { room: 'tab\there', name: 'x' }, ROOM_ERR],
        ['room:join', { room: 'nul\u0000', name: 'x' }, null], // NUL: rejected (as invalid args or room name)
        ['room:join', { room: 'bell\u0007', name: 'x' }, ROOM_ERR],
        ['room:join', { room: 'c1\u0085', name: 'x' }, ROOM_ERR],
        ['room:join', { room: a.id, name: 'x' }, 'This room name is reserved.'],
        ['room:join', { room: 'ok', name: '' }, NICK_ERR],
        ['room:join', { room: 'ok', name: '    ' }, NICK_ERR],
        ['room:join', { room: 'ok', name: 'n'.repeat(33) }, NICK_ERR],
        ['room:join', { room: 'ok', name: 'new\nline' }, NICK_ERR],
        ['room:join', { room: 'ok', name: 'evil\u202Eeman' }, NICK_ERR],
        ['room:join', { room: 'ok', name: 'x', password: 'p'.repeat(129) }, 'Passwords must be at most 128 bytes.'],
        ['room:join', { room: 'valid', name: 'Val' }, 'You are already in this room.'],
        ['room:join', { room: 42, name: 'x' }, 'Invalid arguments.'],
        ['room:join', { name: 'x' }, 'Invalid arguments.'],
        ['room:join', { room: 'ok', name: 'x', password: 5 }, 'Invalid arguments.'],
        ['room:join', 'valid', 'Invalid arguments.'],
        ['room:join', ['valid'], 'Invalid arguments.'],
        ['chat:send', { room: 'valid', text: '' }, 'Messages must be 1 to 2000 characters.'],
        ['chat:send', { room: 'valid', text: ' \n ' }, 'Messages must be 1 to 2000 characters.'],
        ['chat:send', { room: 'valid', text: 'm'.repeat(2001) }, 'Messages must be 1 to 2000 characters.'],
        ['chat:send', { room: 'valid', text: 'esc\u001b[31m' }, 'Messages cannot contain control characters.'],
        ['chat:send', { room: 'valid', text: 7 }, 'Invalid arguments.'],
        ['chat:send', { room: 'valid' }, 'Invalid arguments.'],
        ['chat:send', { room: 'elsewhere', text: 'hi' }, 'You are not in this room.'],
        ['chat:send', null, 'Invalid arguments.'],
        ['room:leave', { room: 'elsewhere' }, 'You are not in this room.'],
        ['room:leave', {}, 'Invalid arguments.'],
        ['room:lock', { room: 'valid', password: 'p'.repeat(129) }, 'Passwords must be at most 128 bytes.'],
        ['room:lock', { room: 'valid', password: true }, 'Invalid arguments.'],
        ['no:such:event', {}, 'Unknown event "no:such:event".'],
      ];
      for (const [ev, payload, error] of cases) {
        const res = await req(a, ev, payload);
        assert.equal(typeof res?.error, 'string', `${ev} ${JSON.stringify(payload)} → ${JSON.stringify(res)}`);
        if (error) assert.equal(res.error, error, `${ev} ${JSON.stringify(payload)}`);
        assert.equal(Object.keys(res).length, 1, 'an error ack carries only {error}');
      }
      await assertQuiet(w);
      assert.deepEqual((await req(w, 'rooms:list', {})).rooms.map((r) => r.name), ['valid']);

      // The limits are inclusive: 64-character room names (Unicode), 32-character names, 2000-character messages.
      const j = await req(a, 'room:join', { room: '한'.repeat(64), name: 'é'.repeat(32) });
      assert.equal(j.ok, true, JSON.stringify(j));
      assert.equal(j.you.name, 'é'.repeat(32));
      const s = await req(a, 'chat:send', { room: '한'.repeat(64), text: '字'.repeat(2000) });
      assert.equal(s.ok, true);
      assert.equal(s.message.text.length, 2000);
    } finally {
      closeAll(a, w);
    }
  });

  test('hostile text is relayed verbatim as data', { timeout: 30000 }, async () => {
    const a = await connect(srv.url);
    const b = await connect(srv.url);
    const evil = '<img src=x onerror=alert(1)>';
    try {
      const ja = await req(a, 'room:join', { room: evil, name: evil });
      assert.equal(ja.you.name, evil);
      assert.equal(ja.room.name, evil);
      await req(b, 'room:join', { room: evil, name: 'b' });
      const sent = await req(a, 'chat:send', { room: evil, text: `"quoted" \\ ${evil}` });
      assert.deepEqual(await next(b, 'chat:message'), [sent.message]);
      assert.equal(sent.message.text, `"quoted" \\ ${evil}`);
    } finally {
      closeAll(a, b);
    }
  });

  test('password-locked rooms', { timeout: 30000 }, async () => {
    const owner = await connect(srv.url);
    const guest = await connect(srv.url);
    const w = await connect(srv.url);
    try {
      const j = await req(owner, 'room:join', { room: 'secret', name: 'Owner', password: 'open sesame' });
      assert.equal(j.room.locked, true);
      assert.equal((await lobby(w))[0].locked, true);

      assert.deepEqual(await req(guest, 'room:join', { room: 'secret', name: 'G' }), { error: 'This room is locked: a password is needed.' });
      assert.deepEqual(await req(guest, 'room:join', { room: 'secret', name: 'G', password: '' }), { error: 'This room is locked: a password is needed.' });
      assert.deepEqual(await req(guest, 'room:join', { room: 'secret', name: 'G', password: 'open sesam' }), { error: 'Wrong password for this room.' });
      await assertQuiet(w);
      assert.equal(pending(owner, 'member:join'), 0);
      const jg = await req(guest, 'room:join', { room: 'secret', name: 'G', password: 'open sesame' });
      assert.equal(jg.ok, true);
      assert.equal(jg.room.count, 2);
      await lobby(w);

      // Only the creator may change the password.
      assert.deepEqual(await req(guest, 'room:lock', { room: 'secret', password: 'mine now' }), { error: "Only the room's creator can change its password." });
      const relock = await req(owner, 'room:lock', { room: 'secret', password: 'new one' });
      assert.deepEqual(relock, { ok: true, room: { name: 'secret', count: 2, locked: true, creator: 'Owner' } });
      await lobby(w);
      assert.deepEqual(await req(w, 'room:join', { room: 'secret', name: 'W', password: 'open sesame' }), { error: 'Wrong password for this room.' });
      // Unlocking: anyone may enter again.
      const unlock = await req(owner, 'room:lock', { room: 'secret', password: null });
      assert.equal(unlock.room.locked, false);
      assert.equal((await lobby(w)).find((r) => r.name === 'secret').locked, false);
      assert.equal((await req(w, 'room:join', { room: 'secret', name: 'W' })).ok, true);

      // Seed clients cannot give a password: a locked room refuses them clearly.
      await req(owner, 'room:lock', { room: 'secret', password: 'again' });
      const seedGuest = await connect(srv.url);
      const r2 = await new Promise((resolve) => seedGuest.emit('enter_room', 'secret', (...args) => resolve(args)));
      assert.deepEqual(r2, [{ error: 'This room is locked: a password is needed.' }]);
      seedGuest.disconnect();
    } finally {
      closeAll(owner, guest, w);
    }
  });

  test('seed 004 clients and yoom clients share rooms', { timeout: 30000 }, async () => {
    const y = await connect(srv.url);
    const s = await connect(srv.url);
    try {
      await req(y, 'room:join', { room: 'mixed', name: 'Yuna' });
      s.emit('nickname', 'Seedy');
      const ack = await new Promise((resolve) => s.emit('enter_room', 'mixed', (...args) => resolve(args)));
      assert.deepEqual(ack, []);
      const [mj] = await next(y, 'member:join');
      assert.deepEqual(mj, { room: 'mixed', member: { id: s.id, name: 'Seedy', creator: false }, count: 2 });
      assert.deepEqual(await next(y, 'welcome'), ['Seedy', 2]);
      // A seed message reaches yoom clients as the seed's plain line.
      await new Promise((resolve) => s.emit('new_message', 'hi', 'mixed', resolve));
      assert.deepEqual(await next(y, 'new_message'), ['Seedy: hi']);
      s.disconnect();
      assert.deepEqual(await next(y, 'bye'), ['Seedy', 1]);
      assert.equal((await next(y, 'member:leave'))[0].count, 1);
    } finally {
      closeAll(y, s);
    }
  });

  test('GET /r/<room> serves the app page', { timeout: 30000 }, async () => {
    const res = await fetch(`${srv.url}/r/${encodeURIComponent('팀 회의')}`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /^text\/html/);
    const body = await res.text();
    assert.match(body, /<title>yoom<\/title>/);
    assert.match(body, /\/js\/main\.js/);
    const esm = await fetch(`${srv.url}/socket.io/socket.io.esm.min.js`);
    assert.equal(esm.status, 200);
    await esm.arrayBuffer();
  });
});

describe('yoom app protocol (configured limits)', () => {
  let srv;
  before(async () => {
    srv = await startYoom({ args: ['--max-room-members', '3', '--max-message-chars', '10', '--max-nickname-chars', '5', '--max-room-name-chars', '8'] });
  });
  after(async () => { if (srv) assert.equal(await srv.stop(), 0, srv.stderr()); });

  test('the member cap is a setting and applies to both protocols', { timeout: 30000 }, async () => {
    const cs = [];
    try {
      for (let i = 0; i < 5; i++) cs.push(await connect(srv.url));
      for (let i = 0; i < 3; i++) assert.equal((await req(cs[i], 'room:join', { room: 'cap', name: `p${i}` })).ok, true);
      assert.deepEqual(await req(cs[3], 'room:join', { room: 'cap', name: 'p3' }), { error: 'This room is full (3 members).' });
      const seed = await new Promise((resolve) => cs[4].emit('enter_room', 'cap', (...args) => resolve(args)));
      assert.deepEqual(seed, [{ error: 'This room is full (3 members).' }]);
      assert.equal((await req(cs[4], 'rooms:list', {})).rooms[0].count, 3);
      // A place frees up when someone leaves.
      await req(cs[0], 'room:leave', { room: 'cap' });
      assert.equal((await req(cs[3], 'room:join', { room: 'cap', name: 'p3' })).ok, true);
    } finally {
      closeAll(...cs);
    }
  });

  test('text limits are settings', { timeout: 30000 }, async () => {
    const a = await connect(srv.url);
    try {
      assert.deepEqual(await req(a, 'room:join', { room: 'r'.repeat(9), name: 'x' }), { error: 'Room names must be 1 to 8 characters without control characters.' });
      assert.deepEqual(await req(a, 'room:join', { room: 'r', name: 'abcdef' }), { error: 'Nicknames must be 1 to 5 characters without control characters.' });
      assert.equal((await req(a, 'room:join', { room: 'r'.repeat(8), name: 'abcde' })).ok, true);
      assert.deepEqual(await req(a, 'chat:send', { room: 'r'.repeat(8), text: '12345678901' }), { error: 'Messages must be 1 to 10 characters.' });
      assert.equal((await req(a, 'chat:send', { room: 'r'.repeat(8), text: '1234567890' })).ok, true);
    } finally {
      a.disconnect();
    }
  });
});
