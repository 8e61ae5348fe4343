// The /admin namespace (@socket.io/admin-ui's protocol, socketio-protocol-notes §8):
// off by default; with --admin: config + all_sockets on connect, live
// socket/room events, server_stats, the commands; --admin-password; --admin-readonly;
// --cors-origin.
import { test, after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { io, Manager } from 'socket.io-client';
import { startYoom } from './lib/yoom.mjs';

const WAIT_MS = 5000;
const FEATURES = ['EMIT', 'JOIN', 'LEAVE', 'DISCONNECT', 'MJOIN', 'MLEAVE', 'MDISCONNECT', 'AGGREGATED_EVENTS'];

// Records every event so a test can await "the next X" whenever it likes.
function record(s) {
  s.queues = new Map();
  s.waiters = new Map();
  s.seen = [];
  s.onAny((ev, ...args) => {
    s.seen.push(ev);
    const w = s.waiters.get(ev);
    if (w && w.length) w.shift()(args);
    else {
      if (!s.queues.has(ev)) s.queues.set(ev, []);
      s.queues.get(ev).push(args);
    }
  });
  return s;
}

function client(url, opts = {}) {
  return record(io(url, { forceNew: true, reconnection: false, transports: ['websocket'], ...opts }));
}

// Resolves with the args of the next `ev` for which pred(args) holds (others are dropped).
function next(s, ev, pred = () => true, ms = WAIT_MS) {
  const q = s.queues.get(ev) || [];
  while (q.length) {
    const args = q.shift();
    if (pred(args)) return Promise.resolve(args);
  }
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no matching "${ev}" within ${ms} ms; saw ${s.seen.slice(-20)}`)), ms);
    const waiter = (args) => {
      if (pred(args)) { clearTimeout(timer); resolve(args); return; }
      if (!s.waiters.has(ev)) s.waiters.set(ev, []);
      s.waiters.get(ev).push(waiter);
    };
    if (!s.waiters.has(ev)) s.waiters.set(ev, []);
    s.waiters.get(ev).push(waiter);
  });
}

function connected(s) {
  if (s.connected) return Promise.resolve();
  return new Promise((resolve, reject) => {
    s.once('connect', resolve);
    s.once('connect_error', reject);
  });
}

function connectError(s) {
  return new Promise((resolve, reject) => {
    s.once('connect', () => reject(new Error('connected but should not have')));
    s.once('connect_error', (e) => resolve(e));
  });
}

function emitAck(s, ev, ...args) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ack for ${ev}`)), WAIT_MS);
    s.emit(ev, ...args, (...ackArgs) => { clearTimeout(timer); resolve(ackArgs); });
  });
}

const disconnected = (s) => new Promise((resolve) => s.once('disconnect', (reason) => resolve(reason)));

describe('admin off by default', () => {
  let srv;
  before(async () => { srv = await startYoom(); });
  after(async () => { assert.equal(await srv.stop(), 0); });

  test('/admin is an invalid namespace', async () => {
    const a = client(`${srv.url}/admin`);
    const e = await connectError(a);
    assert.equal(e.message, 'Invalid namespace');
    a.close();
  });

  test('the page is still just a static page', async () => {
    const r = await fetch(`${srv.url}/admin/`);
    assert.equal(r.status, 200);
    assert.match(await r.text(), /admin\.js/);
  });
});

describe('admin on (--admin)', () => {
  let srv;
  const open = [];
  const track = (s) => { open.push(s); return s; };
  before(async () => { srv = await startYoom({ args: ['--admin'] }); });
  after(async () => {
    for (const s of open) s.close();
    assert.equal(await srv.stop(), 0);
  });

  test('config and all_sockets on connect; live socket and room events; server_stats', async () => {
    const app1 = track(client(srv.url));
    await connected(app1);
    const a = track(client(`${srv.url}/admin`));
    await connected(a);
    const [cfg] = await next(a, 'config');
    assert.deepEqual([...cfg.supportedFeatures].sort(), [...FEATURES].sort());
    const [all] = await next(a, 'all_sockets');
    const s1 = all.find((s) => s.id === app1.id);
    assert.ok(s1, `app client ${app1.id} in all_sockets`);
    assert.equal(s1.nsp, '/');
    assert.equal(s1.transport, 'websocket');
    assert.equal(s1.handshake.address, '127.0.0.1');
    assert.equal(s1.clientId, app1.io.engine.id.slice(0, 12));
    assert.deepEqual(s1.rooms, [app1.id]);
    assert.equal(s1.data.nickname, 'Anon');
    assert.ok(all.some((s) => s.id === a.id && s.nsp === '/admin'), 'the admin socket itself is listed');

    // A new app client: socket_connected; enter_room (seed 004): room_joined.
    const app2 = track(client(srv.url));
    const [sock, ts] = await next(a, 'socket_connected', ([s]) => s.nsp === '/');
    await connected(app2);
    assert.equal(sock.id, app2.id);
    assert.ok(!Number.isNaN(Date.parse(ts)), `timestamp ${ts}`);
    app2.emit('nickname', 'Bea <b>');
    await emitAck(app2, 'enter_room', 'lobby');
    const [nsp, room, id] = await next(a, 'room_joined');
    assert.deepEqual([nsp, room, id], ['/', 'lobby', app2.id]);
    // The nickname set before entering reaches the dashboard as socket_updated.
    const [upd] = await next(a, 'socket_updated', ([u]) => u.id === app2.id);
    assert.deepEqual(upd, { id: app2.id, nsp: '/', data: { nickname: 'Bea <b>' } });

    // server_stats: the timer's, within ~3 s (the one sent on connect is already queued).
    await next(a, 'server_stats');
    const t0 = Date.now();
    const [stats] = await next(a, 'server_stats', () => true, 3500);
    assert.ok(Date.now() - t0 < 3500);
    assert.equal(stats.clientsCount, 3); // app1, app2, the admin
    assert.equal(stats.pollingClientsCount, 0);
    assert.equal(typeof stats.pid, 'number');
    assert.equal(typeof stats.hostname, 'string');
    assert.ok(stats.uptime > 0);
    const root = stats.namespaces.find((n) => n.name === '/');
    assert.equal(root.socketsCount, 2);
    assert.equal(stats.namespaces.find((n) => n.name === '/admin').socketsCount, 1);
    assert.ok(Array.isArray(stats.aggregatedEvents));

    // A fresh admin sees app2 with its nickname and room.
    const a2 = track(client(`${srv.url}/admin`));
    const [all2] = await next(a2, 'all_sockets');
    const s2 = all2.find((s) => s.id === app2.id);
    assert.deepEqual([...s2.rooms].sort(), [app2.id, 'lobby'].sort());
    assert.equal(s2.data.nickname, 'Bea <b>');
    // Its stats on connect count the raw connections since the last report.
    const [st2] = await next(a2, 'server_stats');
    assert.ok(st2.aggregatedEvents.some((e) => e.type === 'rawConnection' && e.count >= 1 &&
      e.timestamp % 1000 === 0), JSON.stringify(st2.aggregatedEvents));
    assert.ok(st2.aggregatedEvents.some((e) => e.type === 'packetsIn' && e.count >= 1));
    assert.ok(st2.aggregatedEvents.some((e) => e.type === 'packetsOut' && e.count >= 1));
    a2.close();

    // socket_disconnected with the reason; rawDisconnection in the next stats.
    const id2 = app2.id;
    app2.close();
    const [dnsp, did, reason] = await next(a, 'socket_disconnected', ([n]) => n === '/');
    assert.deepEqual([dnsp, did, reason], ['/', id2, 'client namespace disconnect']);
    // Before that, it left each of its rooms (the hosted dashboard relies on it).
    const left = (a.queues.get('room_left') || []).filter(([, , id]) => id === id2).map(([, r]) => r);
    assert.deepEqual(left.sort(), [id2, 'lobby'].sort());
    const [st3] = await next(a, 'server_stats', ([s]) => s.aggregatedEvents.some((e) => e.type === 'rawDisconnection'));
    assert.ok(st3.aggregatedEvents.some((e) => e.type === 'rawDisconnection' && typeof e.subType === 'string'));
    const id1 = app1.id;
    app1.close();
    await next(a, 'socket_disconnected', ([, id]) => id === id1);
  });

  test('join, emit, leave and _disconnect commands', async () => {
    const x = track(client(srv.url));
    const y = track(client(srv.url));
    await Promise.all([connected(x), connected(y)]);
    const a = track(client(`${srv.url}/admin`));
    await next(a, 'all_sockets');

    // join a room, aimed at one socket (the UI passes the socket id as the filter).
    a.emit('join', '/', 'vip', x.id);
    assert.deepEqual((await next(a, 'room_joined', ([, r]) => r === 'vip')).slice(0, 3), ['/', 'vip', x.id]);
    // emit to that room reaches x only, with the arguments as given.
    a.emit('emit', '/', 'vip', 'announce', 'hello', { n: 1 });
    const got = await new Promise((resolve) => x.once('announce', (...args) => resolve(args)));
    assert.deepEqual(got, ['hello', { n: 1 }]);
    // emit to everyone in the namespace reaches y too.
    a.emit('emit', '/', null, 'everyone', 42);
    assert.deepEqual(await new Promise((resolve) => y.once('everyone', (...args) => resolve(args))), [42]);
    // leave
    a.emit('leave', '/', 'vip', x.id);
    assert.deepEqual((await next(a, 'room_left', ([, r]) => r === 'vip')).slice(0, 3), ['/', 'vip', x.id]);
    // join without a filter: every socket of the namespace.
    a.emit('join', '/', 'all-hands');
    const joined = new Set();
    while (joined.size < 2) {
      const [, , id] = await next(a, 'room_joined', ([, r]) => r === 'all-hands');
      joined.add(id);
    }
    assert.deepEqual([...joined].sort(), [x.id, y.id].sort());
    // Unknown namespaces are not created by a command.
    a.emit('join', '/nope', 'r');

    // _disconnect one socket (close = false): x gets a server disconnect, y stays.
    const xid = x.id;
    const gone = disconnected(x);
    a.emit('_disconnect', '/', false, xid);
    assert.equal(await gone, 'io server disconnect');
    const [, did, reason] = await next(a, 'socket_disconnected', ([, id]) => id === xid);
    assert.equal(did, xid);
    assert.equal(reason, 'server namespace disconnect');
    assert.ok(y.connected);
    // close = true closes the whole connection.
    const gone2 = disconnected(y);
    a.emit('_disconnect', '/', true, y.id);
    assert.match(await gone2, /io server disconnect|transport close/);

    const a3 = track(client(`${srv.url}/admin`));
    const [stats] = await next(a3, 'server_stats');
    assert.equal(stats.namespaces.find((n) => n.name === '/').socketsCount, 0);
    assert.ok(!stats.namespaces.some((n) => n.name === '/nope'), 'no namespace created by a command');
  });

  test('without --cors-origin a cross-origin page gets no CORS headers', async () => {
    // No allowlist: no CORS headers at all, so a cross-origin page cannot read.
    const r = await fetch(`${srv.url}/socket.io/?EIO=4&transport=polling`, { headers: { Origin: 'https://admin.socket.io' } });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('access-control-allow-origin'), null);
  });
});

describe('admin password (--admin-password)', () => {
  let srv;
  before(async () => { srv = await startYoom({ args: ['--admin-password', 's3cret pass'] }); });
  after(async () => { assert.equal(await srv.stop(), 0); });

  test('wrong or missing credentials: invalid credentials', async () => {
    for (const auth of [{}, { username: 'admin', password: 'nope' }, { username: 'root', password: 's3cret pass' },
      { sessionId: '0123456789abcdef' }, { username: 'admin', password: 'x'.repeat(5000) },
      { username: 'admin\u0000junk', password: 's3cret pass' }]) {
      const a = client(`${srv.url}/admin`, { auth });
      const e = await connectError(a);
      assert.equal(e.message, 'invalid credentials', JSON.stringify(auth).slice(0, 80));
      a.close();
    }
  });

  test('a flood of guesses is refused, and the right password works again after it', async () => {
    const guesses = Array.from({ length: 40 }, (_, i) => client(`${srv.url}/admin`, { auth: { username: 'admin', password: `guess${i}` } }));
    const errs = await Promise.all(guesses.map(connectError));
    for (const e of errs) assert.equal(e.message, 'invalid credentials');
    for (const g of guesses) g.close();
    // Checks are rationed per second: the real admin gets in once the flood is over.
    let ok = false;
    for (let i = 0; i < 20 && !ok; i++) {
      const a = client(`${srv.url}/admin`, { auth: { username: 'admin', password: 's3cret pass' } });
      ok = await connected(a).then(() => true, () => false);
      a.close();
      if (!ok) await new Promise((r) => setTimeout(r, 250));
    }
    assert.ok(ok);
    assert.match(srv.stderr(), /password attempts in a second/);
  });

  test('right credentials: session id, which works on its own afterwards', async () => {
    const a = client(`${srv.url}/admin`, { auth: { username: 'admin', password: 's3cret pass' } });
    const [session] = await next(a, 'session');
    assert.match(session, /^[0-9a-f]{16}$/);
    await connected(a);
    await next(a, 'config');
    a.close();
    const b = client(`${srv.url}/admin`, { auth: { sessionId: session } });
    await connected(b);
    await next(b, 'all_sockets');
    assert.equal((b.queues.get('session') || []).length, 0, 'no new session for a known one');
    b.close();
  });
});

describe('read-only admin (--admin --admin-readonly) and --cors-origin', () => {
  let srv;
  before(async () => {
    srv = await startYoom({ args: ['--admin', '--admin-readonly', '--cors-origin', 'https://admin.socket.io, http://localhost:3000',
      '--cors-origin', 'https://other.example'] });
  });
  after(async () => { assert.equal(await srv.stop(), 0); });

  test('no command features; commands are ignored', async () => {
    const x = client(srv.url);
    await connected(x);
    // The admin and an app socket on one connection: packets are handled in
    // order, so once the app socket's ack is back the commands were seen.
    const mgr = new Manager(srv.url, { forceNew: true, reconnection: false, transports: ['websocket'] });
    const a = record(mgr.socket('/admin'));
    const same = mgr.socket('/');
    a.connect();
    same.connect();
    await Promise.all([connected(a), connected(same)]);
    const [cfg] = await next(a, 'config');
    assert.deepEqual(cfg.supportedFeatures, ['AGGREGATED_EVENTS']);
    a.emit('join', '/', 'sneaky', x.id);
    a.emit('emit', '/', null, 'sneaky', 1);
    a.emit('_disconnect', '/', true, x.id);
    let sneaky = 0;
    x.on('sneaky', () => { sneaky++; });
    await emitAck(same, 'enter_room', 'sync');
    // x itself is still served: its own round trip works.
    await emitAck(x, 'enter_room', 'still-here');
    assert.ok(x.connected);
    assert.equal(sneaky, 0);
    const b = client(`${srv.url}/admin`);
    const [all] = await next(b, 'all_sockets');
    const sx = all.find((s) => s.id === x.id);
    assert.ok(!sx.rooms.includes('sneaky'));
    assert.ok(sx.rooms.includes('still-here'));
    b.close();
    mgr.engine?.close();
    a.close();
    same.close();
    x.close();
  });

  test('CORS: listed origins get credentials headers, others none; preflight 204', async () => {
    for (const origin of ['https://admin.socket.io', 'http://localhost:3000', 'https://other.example']) {
      const r = await fetch(`${srv.url}/socket.io/?EIO=4&transport=polling`, { headers: { Origin: origin } });
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('access-control-allow-origin'), origin);
      assert.equal(r.headers.get('access-control-allow-credentials'), 'true');
    }
    const bad = await fetch(`${srv.url}/socket.io/?EIO=4&transport=polling`, { headers: { Origin: 'https://evil.example' } });
    assert.equal(bad.headers.get('access-control-allow-origin'), null);
    const pre = await fetch(`${srv.url}/socket.io/?EIO=4&transport=polling`, {
      method: 'OPTIONS', headers: { Origin: 'https://admin.socket.io', 'Access-Control-Request-Method': 'POST' },
    });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers.get('access-control-allow-origin'), 'https://admin.socket.io');
  });

  test('a polling admin client connects cross-origin as the hosted dashboard does', async () => {
    const a = client(`${srv.url}/admin`, { transports: ['polling'], withCredentials: true,
      extraHeaders: { Origin: 'https://admin.socket.io' } });
    await connected(a);
    const [stats] = await next(a, 'server_stats');
    // (the CORS test's bare handshakes are polling sessions too, until they time out)
    assert.ok(stats.pollingClientsCount >= 1);
    a.close();
  });
});

test('bad --cors-origin values stop start-up', async () => {
  await assert.rejects(startYoom({ args: ['--cors-origin', '*'] }), /not an http/);
});
