// The official socket.io-client 4.8 against `yoom --conformance`, using the
// test-only "/test" namespace helpers (src/sio/ym_sio_conformance.h) on the
// /sio-test/ path, which has the default heartbeat (the suite's 200 ms pong
// deadline would drop healthy clients of a 1,000-client test on a busy machine):
// transports, acks both ways, binary, rooms, broadcast, namespaces, a 1,000
// client fan-out, and a client that stops reading.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import crypto from 'node:crypto';
import { io } from 'socket.io-client';
import { startYoom } from './lib/yoom.mjs';

// Above the largest bundle file (socket.io.js.map, 300 KB): the net layer drops any
// connection whose queued bytes exceed it, HTTP responses included.
const BACKLOG = 1 << 20;
let srv;
before(async () => { srv = await startYoom({ args: ['--conformance', '--quiet', '--max-send-backlog', String(BACKLOG)] }); });
const opened = [];
after(async () => {
  for (const s of opened) s.close(); // also after a failure, so the process can exit
  const code = await srv.stop();
  assert.equal(code, 0, srv.stderr().split('\n').filter((l) => !/ info /.test(l)).slice(-60).join('\n'));
});

const withTimeout = (p, ms, what) => Promise.race([p, new Promise((_, rej) => setTimeout(() => rej(new Error(`timeout: ${what}`)), ms).unref())]);

const PATH = '/sio-test/';
function client(nsp = '/test', opts = {}) {
  const s = io(srv.url + nsp, { path: PATH, forceNew: true, reconnection: false, ...opts });
  opened.push(s);
  return s;
}
// Generous timeouts: the suite shares a loaded 2-core machine and the server
// runs under ASan. They bound the test; they do not measure speed.
const connected = (s, ms = 30000) => withTimeout(new Promise((resolve, reject) => {
  if (s.connected) return resolve(s);
  s.once('connect', () => resolve(s));
  s.once('connect_error', reject);
}), ms, 'connect');
// Resolves with every argument of the ack, as an array.
const call = (s, ...args) => withTimeout(new Promise((resolve) => s.emit(...args, (...r) => resolve(r))), 60000, `ack ${args[0]}`);

for (const [name, transports] of [['websocket only', ['websocket']], ['polling only', ['polling']]]) {
  test(`${name}: emit with ack, both ways`, async () => {
    const s = await connected(client('/test', { transports }));
    assert.equal(s.io.engine.transport.name, transports[0]);
    assert.deepEqual(await call(s, 'echo', 1, 'two', { three: [true, null] }), [1, 'two', { three: [true, null] }]);
    s.on('q', (x, cb) => cb('re:' + x, x + 1));
    const answer = new Promise((resolve) => s.once('answer', (...a) => resolve(a)));
    s.emit('ask', 'q', 41);
    assert.deepEqual(await withTimeout(answer, 5000, 'answer'), [null, 're:41', 42]);
    s.disconnect();
  });
}

test('polling upgrades to websocket', async () => {
  const s = client('/test');
  await connected(s);
  if (s.io.engine.transport.name !== 'websocket')
    await withTimeout(new Promise((resolve) => s.io.engine.once('upgrade', resolve)), 10000, 'upgrade');
  assert.equal(s.io.engine.transport.name, 'websocket');
  assert.deepEqual(await call(s, 'echo', 'after upgrade'), ['after upgrade']);
  s.disconnect();
});

test('binary both ways', async () => {
  for (const transports of [['websocket'], ['polling']]) {
    const s = await connected(client('/test', { transports }));
    const a = Buffer.from([0, 1, 2, 255]);
    const b = Buffer.alloc(70000, 7);
    const [x, y] = await call(s, 'echo', a, { nested: b });
    assert.deepEqual(Buffer.from(x), a);
    assert.deepEqual(Buffer.from(y.nested), b);
    s.disconnect();
  }
});

test('rooms and broadcast exclude the sender', async () => {
  const [a, b, c] = await Promise.all([0, 1, 2].map(() => connected(client('/test', { transports: ['websocket'] }))));
  assert.deepEqual(await call(a, 'join', 'r1'), [1]);
  assert.deepEqual(await call(b, 'join', 'r1'), [2]);
  const got = { a: [], b: [], c: [] };
  a.on('news', (x) => got.a.push(x));
  b.on('news', (x) => got.b.push(x));
  c.on('news', (x) => got.c.push(x));
  const bGot = new Promise((resolve) => b.once('news', resolve));
  assert.deepEqual(await call(a, 'broadcast', 'r1', 'news', { n: 1 }), [1]);
  await withTimeout(bGot, 5000, 'broadcast');
  // binary broadcast
  const bin = new Promise((resolve) => b.once('blob', resolve));
  assert.deepEqual(await call(a, 'broadcast-bin', 'r1', 'blob', Buffer.from([9, 8])), [1]);
  assert.deepEqual(Buffer.from(await withTimeout(bin, 5000, 'blob')), Buffer.from([9, 8]));
  // a round trip on a and c, so anything wrongly sent to them has arrived
  await call(a, 'echo');
  await call(c, 'echo');
  assert.deepEqual(got, { a: [], b: [{ n: 1 }], c: [] });
  assert.deepEqual(await call(b, 'leave', 'r1'), [1]);
  b.disconnect();
  assert.deepEqual(await call(c, 'join', 'r1'), [2]); // b gone, a and c left
  a.disconnect();
  c.disconnect();
});

test('namespaces and connect errors', async () => {
  const root = client('/', { transports: ['websocket'] });
  const auth = new Promise((resolve) => root.once('auth', resolve));
  await connected(root);
  assert.deepEqual(await withTimeout(auth, 5000, 'auth'), {});
  root.disconnect();
  await assert.rejects(connected(client('/refuse', { transports: ['websocket'] })), { message: 'not allowed' });
  await assert.rejects(connected(client('/nope', { transports: ['websocket'] })), { message: 'Invalid namespace' });
  // multiplexed: one manager, two namespaces
  const main = io(srv.url, { path: PATH, reconnection: false, transports: ['websocket'], auth: { k: 'v' } });
  opened.push(main);
  const gotAuth = new Promise((resolve) => main.once('auth', resolve));
  const custom = main.io.socket('/test');
  custom.connect();
  await connected(main);
  await connected(custom);
  assert.deepEqual(await withTimeout(gotAuth, 5000, 'auth'), { k: 'v' });
  assert.deepEqual(await call(custom, 'echo', 'multiplexed'), ['multiplexed']);
  const bye = new Promise((resolve) => custom.once('disconnect', resolve));
  custom.emit('bye', false);
  assert.equal(await withTimeout(bye, 5000, 'bye'), 'io server disconnect');
  assert.ok(main.connected); // the other namespace stays up
  main.disconnect();
});

test('1,000 clients in one room each get every broadcast once, in order', async () => {
  const N = 1000;
  const M = 20;
  const clients = [];
  for (let i = 0; i < N; i += 100) {
    const batch = [];
    for (let k = i; k < Math.min(N, i + 100); k++) batch.push(client('/test', { transports: ['websocket'] }));
    try {
      await Promise.all(batch.map((s) => connected(s, 120000)));
    } catch (e) {
      // Say which clients hung and where, to tell a slow machine from a lost handshake.
      const stuck = batch.filter((s) => !s.connected).map((s) => `${s.io.engine?.readyState}/${s.io.engine?.transport?.readyState}`);
      throw new Error(`${e.message}: ${stuck.length} of batch ${i} not connected (engine/transport states: ${[...new Set(stuck)]}); ` +
        `server: ${srv.stderr().split('\n').filter((l) => !/ info /.test(l)).slice(-10).join(' | ')}`);
    }
    clients.push(...batch);
  }
  for (let i = 0; i < N; i += 100) await Promise.all(clients.slice(i, i + 100).map((s) => call(s, 'join', 'big')));
  const seen = clients.map(() => []);
  const done = clients.map((s, i) => new Promise((resolve) => s.on('tick', (n) => {
    seen[i].push(n);
    if (seen[i].length === M) resolve();
  })));
  const sender = await connected(client('/test', { transports: ['websocket'] }));
  for (let n = 0; n < M; n++) assert.deepEqual(await call(sender, 'broadcast', 'big', 'tick', n), [N]);
  await withTimeout(Promise.all(done), 120000, 'all ticks');
  await call(clients[0], 'echo'); // anything extra would be here by now
  const want = [...Array(M).keys()];
  for (let i = 0; i < N; i++) assert.deepEqual(seen[i], want, `client ${i}`);
  for (const s of [...clients, sender]) s.disconnect();
});

// A raw WebSocket client that connects to /test, joins a room, and then never
// reads again (it writes pongs anyway, so only the send backlog can drop it).
function wsFrame(text) {
  const payload = Buffer.from(text);
  const mask = crypto.randomBytes(4);
  const len = payload.length;
  const head = len < 126 ? Buffer.from([0x81, 0x80 | len]) : Buffer.from([0x81, 0x80 | 126, len >> 8, len & 255]);
  const body = Buffer.from(payload.map((b, i) => b ^ mask[i & 3]));
  return Buffer.concat([head, mask, body]);
}

async function stuckClient(room) {
  const sock = net.connect(srv.port, '127.0.0.1');
  sock.on('error', () => {}); // the server resets it when it drops it
  await new Promise((resolve) => sock.once('connect', resolve));
  const key = crypto.randomBytes(16).toString('base64');
  sock.write(`GET ${PATH}?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n` +
    `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
  let buf = Buffer.alloc(0);
  const waitFor = (str) => withTimeout(new Promise((resolve) => {
    const check = () => { if (buf.includes(str)) { sock.off('data', onData); resolve(); } };
    const onData = (d) => { buf = Buffer.concat([buf, d]); check(); };
    sock.on('data', onData);
    check();
  }), 5000, str);
  await waitFor('"maxPayload"');
  sock.write(wsFrame('40/test,'));
  await waitFor('40/test,{');
  sock.write(wsFrame(`42/test,1["join","${room}"]`));
  await waitFor('43/test,1[');
  sock.pause(); // from here on nothing is read
  const pongs = setInterval(() => { if (!sock.destroyed) sock.write(wsFrame('3')); }, 100);
  return { sock, localPort: sock.localPort, stop() { clearInterval(pongs); sock.destroy(); } };
}

test('a client that stops reading is dropped while the others carry on', async () => {
  const stuck = await stuckClient('slow');
  const reader = await connected(client('/test', { transports: ['websocket'] }));
  const sender = await connected(client('/test', { transports: ['websocket'] }));
  assert.deepEqual(await call(reader, 'join', 'slow'), [2]);
  const K = 120;
  const chunk = 'x'.repeat(200000);
  let got = 0;
  const all = new Promise((resolve) => reader.on('big', (m) => {
    assert.equal(m.n, got);
    assert.equal(m.s.length, chunk.length);
    if (++got === K) resolve();
  }));
  for (let n = 0; n < K; n++) await call(sender, 'broadcast', 'slow', 'big', { n, s: chunk });
  await withTimeout(all, 60000, 'reader got everything');
  // the stuck client is gone: the room holds only the reader
  assert.deepEqual(await call(reader, 'join', 'slow'), [1]);
  assert.match(srv.stderr(), new RegExp(`127\\.0\\.0\\.1:${stuck.localPort}\\).*(slow client|send backlog)`));
  stuck.stop();
  reader.disconnect();
  sender.disconnect();
});

test('serves the browser client bundle with ETag and Cache-Control', async () => {
  for (const name of ['socket.io.js', 'socket.io.min.js', 'socket.io.esm.min.js']) {
    const r = await fetch(`${srv.url}/socket.io/${name}`);
    assert.equal(r.status, 200, name);
    assert.match(r.headers.get('content-type'), /^application\/javascript/);
    assert.equal(r.headers.get('cache-control'), 'public, max-age=0');
    const etag = r.headers.get('etag');
    assert.match(etag, /^"[0-9a-f]{16}"$/);
    assert.ok((await r.text()).length > 10000);
    const again = await fetch(`${srv.url}/socket.io/${name}`, { headers: { 'If-None-Match': etag } });
    assert.equal(again.status, 304);
    const map = await fetch(`${srv.url}/socket.io/${name}.map`);
    assert.equal(map.status, 200);
    assert.match(map.headers.get('content-type'), /^application\/json/);
    assert.ok(JSON.parse(await map.text()).mappings);
  }
  // other names under the path are not the bundle
  assert.notEqual((await fetch(`${srv.url}/socket.io/socket.io.other.js`)).status, 200);
});
