// A tiny run of the benchmark load generator (bench/loadgen) against
// `yoom --bench`, so neither rots between benchmark runs: a few hundred
// broadcasts to 50 clients over two worker processes (two source addresses),
// then echo acks; nothing may be lost, duplicated or reordered. A deliberately
// faulty raw-WebSocket peer checks that the load generator does notice loss
// and reordering (a counter that can never fail would prove nothing).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { WebSocketServer } from 'ws';
import { startYoom, ROOT } from './lib/yoom.mjs';

let loadgen;
let srv;

before(async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'yoom-loadgen-'));
  loadgen = path.join(dir, 'loadgen');
  execFileSync('cc', ['-std=gnu17', '-D_GNU_SOURCE', '-O2', '-Wall', '-Wextra', '-Werror', '-Wno-unused-parameter',
    '-o', loadgen, path.join(ROOT, 'bench/loadgen/loadgen.c'), '-lm'], { stdio: 'inherit' });
  srv = await startYoom({ args: ['--bench', '--quiet'] });
});
after(async () => { if (srv) assert.equal(await srv.stop(), 0); });

// Runs the load generator; resolves with its JSON report.
function run(args) {
  return new Promise((resolve, reject) => {
    execFile(loadgen, args, { timeout: 60000 }, (err, stdout, stderr) => {
      let report;
      try { report = JSON.parse(stdout); } catch { /* reported below */ }
      if (!report) reject(new Error(`loadgen failed (${err?.code}): ${stdout}\n${stderr}`));
      else resolve(report);
    });
  });
}

test('latency histogram self-test (bucket error, quantiles, merging)', () => {
  assert.equal(execFileSync(loadgen, ['--self-test'], { encoding: 'utf8' }).trim(), 'ok');
});

test('broadcast: 50 clients in one room, 5 senders x 80 messages, none lost', async () => {
  const r = await run(['--port', String(srv.port), '--clients', '50', '--procs', '2', '--senders', '5',
    '--rate', '40', '--duration', '2', '--size', '200', '--server-pid', String(srv.proc.pid)]);
  assert.equal(r.complete, true);
  assert.equal(r.connected, 50);
  // The schedule is fixed: 5 senders x 40/s x 2 s.
  assert.equal(r.sent, 400);
  assert.equal(r.expected, 400 * 50, 'every member, sender included, gets every message');
  assert.equal(r.delivered, r.expected);
  assert.equal(r.lost, 0);
  assert.equal(r.reordered, 0);
  assert.equal(r.bad, 0);
  assert.equal(r.latency_us.count, r.delivered);
  assert.ok(r.latency_us.p50 > 0 && r.latency_us.p50 <= r.latency_us.p99 && r.latency_us.p99 <= r.latency_us.max);
  assert.ok(r.server_rss_kb > 0, 'the server was sampled');
});

test('echo with ack: 50 clients x 20 round trips each', async () => {
  const r = await run(['--port', String(srv.port), '--clients', '50', '--mode', 'echo', '--senders', '50',
    '--rate', '10', '--duration', '2', '--size', '64']);
  assert.equal(r.complete, true);
  assert.equal(r.sent, 50 * 20);
  assert.equal(r.delivered, r.sent);
  assert.equal(r.lost, 0);
  assert.equal(r.reordered, 0);
  assert.equal(r.bad, 0);
});

test('the load generator notices loss and reordering', async () => {
  // Raw-WebSocket peer that drops every 10th broadcast and swaps the two
  // messages after each drop.
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((resolve) => wss.on('listening', resolve));
  const members = new Set();
  let n = 0;
  let held = null;
  wss.on('connection', (ws) => {
    ws.on('message', (data) => {
      const m = JSON.parse(data);
      if (m[0] === 'join') { members.add(ws); ws.send(JSON.stringify(['ack', m[2]])); return; }
      if (m[0] !== 'bcast') return;
      n++;
      const out = JSON.stringify(['msg', m[2]]);
      if (n % 10 === 0) return;                   // lost
      if (n % 10 === 1 && n > 1) { held = out; return; } // sent after the next one
      for (const p of members) p.send(out);
      if (held) { for (const p of members) p.send(held); held = null; }
    });
  });
  try {
    const r = await run(['--proto', 'ws', '--port', String(wss.address().port), '--clients', '4', '--senders', '1',
      '--rate', '100', '--duration', '1', '--max-drain', '1']);
    assert.equal(r.sent, 100);
    assert.equal(r.expected, 400);
    assert.equal(r.lost, 10 * 4, 'every 10th broadcast missing at each of the 4 members');
    assert.equal(r.delivered, 90 * 4);
    assert.equal(r.reordered, 9 * 4, 'messages 11, 21 .. 91 arrive after their successor');
  } finally {
    for (const c of wss.clients) c.terminate();
    await new Promise((resolve) => wss.close(resolve));
  }
});
