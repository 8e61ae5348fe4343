// Message history (docs/PROTOCOL.md, "History"): the room:join ack carries the
// room's last N messages younger than the TTL, oldest first; a message is
// acked only once committed; a retry with the same clientId gets the original
// ack and makes no second row; history survives a clean restart; a corrupt or
// unusable database stops start-up with a clear error.
import { test, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startYoom, yoomBin, ROOT } from './lib/yoom.mjs';
import { client, connected, next, pending, request, sleep } from './fixtures/clients.mjs';

const socks = [];
function open(srv, opts) { const s = client(srv.url, { auth: { yoom: 1 }, ...opts }); socks.push(s); return s; }
after(() => { for (const s of socks) s.close(); });

async function stopOk(srv) {
  // Open WebSockets would hold the graceful shutdown until its deadline.
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

describe('history', () => {
  test('a joiner gets the last N messages, oldest first, in the join ack', { timeout: 60000 }, async () => {
    const srv = await startYoom({ args: ['--history', '5'] });
    try {
      const a = open(srv);
      const first = await join(a, 'lobby', 'Ann');
      assert.deepEqual(first.messages, [], 'a new room has no history');
      const sent = [];
      for (let i = 1; i <= 7; i++) {
        const res = await request(a, 'chat:send', { room: 'lobby', text: `m${i}` });
        assert.equal(res.ok, true);
        assert.equal(res.message.text, `m${i}`);
        assert.equal(res.duplicate, false);
        sent.push(res.message);
      }
      const ids = sent.map((m) => m.id);
      assert.equal(new Set(ids).size, 7, 'ids are unique');
      const b = open(srv);
      const res = await join(b, 'lobby', 'Bob');
      assert.deepEqual(res.messages.map((m) => m.text), ['m3', 'm4', 'm5', 'm6', 'm7']);
      assert.deepEqual(res.messages.map((m) => m.id), ids.slice(2));
      for (const m of res.messages) {
        assert.equal(m.room, 'lobby');
        assert.equal(m.from.name, 'Ann');
        assert.equal(typeof m.ts, 'number');
      }
      // Other rooms' history stays there.
      const c = open(srv);
      const other = await join(c, 'elsewhere', 'Cy');
      assert.deepEqual(other.messages, []);
    } finally { await stopOk(srv); }
  });

  test('a retry with the same clientId gets the original ack and no second row', { timeout: 60000 }, async () => {
    const srv = await startYoom();
    try {
      const a = open(srv);
      const b = open(srv);
      await join(a, 'r', 'Ann');
      await join(b, 'r', 'Bob');
      const one = await request(a, 'chat:send', { room: 'r', text: 'hello', clientId: 'c-1' });
      const [heard] = await next(b, 'chat:message');
      assert.equal(heard.id, one.message.id);
      assert.equal(heard.clientId, 'c-1');
      const two = await request(a, 'chat:send', { room: 'r', text: 'hello', clientId: 'c-1' });
      assert.equal(two.ok, true);
      assert.equal(two.duplicate, true);
      assert.equal(two.message.id, one.message.id);
      assert.equal(two.message.ts, one.message.ts);
      await sleep(300);
      assert.equal(pending(b, 'chat:message'), 0, 'the room hears a message once');
      const c = open(srv);
      const res = await join(c, 'r', 'Cy');
      assert.deepEqual(res.messages.map((m) => m.clientId), ['c-1']);
      // Invalid client ids are refused.
      for (const clientId of [5, '', 'x'.repeat(129)]) {
        const e = await request(a, 'chat:send', { room: 'r', text: 'x', clientId });
        assert.match(e.error, /clientId/);
      }
    } finally { await stopOk(srv); }
  });

  test('restart: messages sent, clean restart, a newcomer receives them', { timeout: 60000 }, async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'yoom-hist-'));
    let srv = await startYoom({ dataDir });
    const a = open(srv);
    await join(a, 'keep', 'Ann');
    for (const text of ['one', 'two', 'three']) await request(a, 'chat:send', { room: 'keep', text });
    a.close();
    await stopOk(srv);
    srv = await startYoom({ dataDir });
    try {
      const b = open(srv);
      const res = await join(b, 'keep', 'Bob');
      assert.deepEqual(res.messages.map((m) => m.text), ['one', 'two', 'three']);
      // The database is sound after the clean shutdown.
      const out = spawnSync('sqlite3', [path.join(dataDir, 'yoom.db'), 'PRAGMA integrity_check;'], { encoding: 'utf8' });
      assert.equal(out.stdout.trim(), 'ok');
    } finally { await stopOk(srv); }
  });

  test('messages older than the TTL are not given out', { timeout: 60000 }, async () => {
    const srv = await startYoom({ args: ['--history-ttl-s', '3'] }); // room enough for a loaded machine
    try {
      const a = open(srv);
      await join(a, 'ttl', 'Ann');
      await request(a, 'chat:send', { room: 'ttl', text: 'soon gone' });
      const b = open(srv);
      const fresh = await join(b, 'ttl', 'Bob');
      assert.deepEqual(fresh.messages.map((m) => m.text), ['soon gone']);
      await sleep(4500);
      const c = open(srv);
      const late = await join(c, 'ttl', 'Cy');
      assert.deepEqual(late.messages, []);
    } finally { await stopOk(srv); }
  });
});

describe('start-up errors', () => {
  const run = (dataDir, extra = []) => spawnSync(yoomBin(), ['--host', '127.0.0.1', '--port', '0', '--data-dir', dataDir,
    '--web-root', path.join(ROOT, 'web'), ...extra], { encoding: 'utf8', timeout: 20000, cwd: ROOT });

  test('a corrupt database is a clear error and a non-zero exit', { timeout: 30000 }, () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'yoom-bad-'));
    writeFileSync(path.join(dir, 'yoom.db'), Buffer.alloc(8192, 0x5a));
    const r = run(dir);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /cannot open the message store .*yoom\.db/);
    assert.doesNotMatch(r.stderr, /listening on http/);
  });

  test('a database path that cannot be a file is a clear error', { timeout: 30000 }, () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'yoom-bad-'));
    mkdirSync(path.join(dir, 'yoom.db'));
    const r = run(dir);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /cannot open the message store/);
  });

  test('--store-sync accepts normal and full only', { timeout: 30000 }, () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'yoom-bad-'));
    const r = run(dir, ['--store-sync', 'sometimes']);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /store-sync/);
  });

  test('the database is created on first run, also with --store-sync full', { timeout: 30000 }, async () => {
    const dataDir = path.join(mkdtempSync(path.join(tmpdir(), 'yoom-new-')), 'a', 'b');
    const srv = await startYoom({ dataDir, args: ['--store-sync', 'full'] });
    try {
      const a = open(srv);
      await join(a, 'x', 'Ann');
      const res = await request(a, 'chat:send', { room: 'x', text: 'durable' });
      assert.equal(res.ok, true);
    } finally { await stopOk(srv); }
    const out = spawnSync('sqlite3', [path.join(dataDir, 'yoom.db'), 'SELECT text FROM messages;'], { encoding: 'utf8' });
    assert.equal(out.stdout.trim(), 'durable');
  });
});
