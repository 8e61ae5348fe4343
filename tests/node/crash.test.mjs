// Crash test of durable acknowledgement (issue 7): a client sends messages
// (every 8th with a clip)
// with client ids and records every ack while the server is killed with
// SIGKILL at random moments and restarted on the same database. Messages
// left unacknowledged by a kill are retried in the next round with the same
// client id (the store may or may not have committed them). At the end every
// acknowledged message is stored exactly once, with the id its ack named, no
// client id is stored twice, the history a joiner gets matches the database,
// and PRAGMA integrity_check says ok.
//
// Rounds: YOOM_CRASH_ROUNDS (default 20; bench/store/crash-bench.sh runs 200).
// The kill times come from a seeded generator (YOOM_CRASH_SEED) so that a
// failing run can be replayed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startYoom } from './lib/yoom.mjs';
import { client, connected, frames, request } from './fixtures/clients.mjs';

const ROUNDS = Number(process.env.YOOM_CRASH_ROUNDS || 20);
const SEED = Number(process.env.YOOM_CRASH_SEED || Date.now() % 1e9);
const WINDOW = 6;          // messages in flight at once
const ROOM = 'crash';
const NAME = 'writer';     // the same display name every round: client ids are per (room, sender)

function rng(seed) {       // mulberry32
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function sql(db, query) {
  const r = spawnSync('sqlite3', [db, query], { encoding: 'utf8', maxBuffer: 1 << 28 });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}

test(`SIGKILL at random moments, ${ROUNDS} rounds: every ack is durable, exactly once`, { timeout: 120000 + ROUNDS * 15000 }, async () => {
  const random = rng(SEED);
  const dataDir = mkdtempSync(path.join(tmpdir(), 'yoom-crash-'));
  const acked = new Map();       // clientId -> { id, text }
  let unacked = [];              // clientIds to retry next round
  let nextN = 1;
  let killsAmongAcks = 0;

  for (let round = 0; round < ROUNDS; round++) {
    const srv = await startYoom({ dataDir, args: ['--no-stun', '--quiet'] });
    const s = client(srv.url, { auth: { yoom: 1 } });
    const inFlight = new Map();
    let dead = false;
    let acksThisRound = 0;
    s.on('disconnect', () => { dead = true; });
    // Odd rounds time the kill from the first ack, so that kills land among
    // commits even when start-up is slow; even rounds from the connection.
    const delay = Math.floor(random() * 400);
    let killTimer = null;
    const armKill = () => { if (!killTimer) killTimer = setTimeout(() => srv.proc.kill('SIGKILL'), delay); };
    try {
      await connected(s);
      const res = await request(s, 'room:join', { room: ROOM, name: NAME });
      assert.equal(res.ok, true, JSON.stringify(res));
      assert.equal(res.you.name, NAME);
      if (round % 2 === 0) armKill();
      const queue = [...unacked];
      unacked = [];
      const send = (cid) => {
        const text = `text of ${cid}`;
        inFlight.set(cid, text);
        // Every 8th message carries a clip: its ack waits for the encoder too.
        const clip = Number(cid.replace(/\D/g, '')) % 8 === 0;
        s.emit('chat:send', { room: ROOM, text, clientId: cid, ...(clip ? { frames: frames(2) } : {}) }, (ack) => {
          if (!inFlight.has(cid)) return;
          inFlight.delete(cid);
          if (ack && ack.ok) {
            assert.equal(ack.message.clientId, cid);
            assert.equal(ack.message.text, text);
            const prev = acked.get(cid);
            // A retry acked again must name the same row.
            if (prev) assert.equal(ack.message.id, prev.id, `${cid} acked with two ids`);
            if (clip) assert.ok(ack.message.clip, `${cid}: clip acked without its clip`);
            acked.set(cid, { id: ack.message.id, text, clip });
            acksThisRound++;
            if (round % 2 === 1) armKill();
          } else {
            unacked.push(cid); // refused (e.g. busy): retry later
          }
        });
      };
      await new Promise((resolve) => {
        const pump = () => {
          if (dead) return resolve();
          while (inFlight.size < WINDOW) send(queue.length ? queue.shift() : `m-${nextN++}`);
          setTimeout(pump, 2);
        };
        pump();
        srv.exited.then(() => setTimeout(resolve, 50));
      });
    } finally {
      armKill();
      s.close();
      await srv.exited;
      clearTimeout(killTimer);
    }
    if (acksThisRound > 0) killsAmongAcks++;
    // Whatever was in flight at the kill may or may not be stored: retry it.
    unacked.push(...inFlight.keys());
  }

  // What the killed server left (sqlite3 recovers the WAL like yoom would).
  const db = path.join(dataDir, 'yoom.db');
  const before = sql(db, "SELECT client_id FROM messages WHERE room = 'r:crash' ORDER BY id;").split('\n').filter(Boolean);

  // A last clean run: the retries of the final round, then a graceful stop.
  const srv = await startYoom({ dataDir, args: ['--no-stun', '--quiet', '--history', '1000'] });
  const s = client(srv.url, { auth: { yoom: 1 } });
  let history;
  try {
    await connected(s);
    history = (await request(s, 'room:join', { room: ROOM, name: NAME })).messages;
    for (const cid of unacked) {
      const clip = Number(cid.replace(/\D/g, '')) % 8 === 0;
      const ack = await request(s, 'chat:send', { room: ROOM, text: `text of ${cid}`, clientId: cid,
        ...(clip ? { frames: frames(2) } : {}) }, 30000);
      assert.equal(ack.ok, true, JSON.stringify(ack));
      acked.set(cid, { id: ack.message.id, text: `text of ${cid}`, clip });
    }
  } finally {
    s.close();
    const code = await srv.stop();
    assert.equal(code, 0, `clean shutdown failed (${code}):\n${srv.stderr()}`);
  }

  assert.equal(sql(db, 'PRAGMA integrity_check;'), 'ok');
  const rows = new Map();
  for (const line of sql(db, "SELECT client_id, id, length(clip) > 0, text FROM messages WHERE room = 'r:crash';").split('\n').filter(Boolean)) {
    const [cid, id, hasClip, ...text] = line.split('|');
    assert.ok(!rows.has(cid), `client id ${cid} stored twice (seed ${SEED})`);
    rows.set(cid, { id: Number(id), clip: hasClip === '1', text: text.join('|') });
  }
  // Odd rounds are killed only after their first ack.
  assert.ok(acked.size >= Math.ceil(ROUNDS / 2), `too few acks to mean anything: ${acked.size}`);
  for (const [cid, a] of acked) {
    const row = rows.get(cid);
    assert.ok(row, `acked message ${cid} lost (seed ${SEED})`);
    assert.equal(row.id, Number(a.id), `${cid}: ack named another row`);
    assert.equal(row.text, a.text);
    if (a.clip) assert.ok(row.clip, `${cid}: acked clip not stored`);
  }
  // The joiner's history is the last rows the killed server left, in order.
  assert.deepEqual(history.map((m) => m.clientId), before.slice(-1000));
  console.log(`crash: ${ROUNDS} rounds, seed ${SEED}, ${acked.size} acked, ${rows.size} stored, ` +
    `${killsAmongAcks} kills among acks`);
});
