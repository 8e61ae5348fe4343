// Native HTTPS/WSS (src/net/ym_tls.h): yoom with --tls-self-signed and with
// --tls-cert/--tls-key made by `openssl req`. HTTPS GET with the certificate
// as the only CA, its subjectAltName list, the self-signed pair kept across
// restarts, session resumption by ticket (TLS 1.2 and 1.3), Socket.IO over
// wss and over https long-polling, and peers that do not speak TLS (plain
// HTTP, garbage, a silent one) dropped while others are served.
// --http-redirect-port answers plain HTTP with a 301 to https. Bad
// certificate files stop start-up with a clear message.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { io } from 'socket.io-client';
import { startYoom, yoomBin, ROOT } from './lib/yoom.mjs';

const withTimeout = (p, ms, what) => Promise.race([p, new Promise((_, rej) => setTimeout(() => rej(new Error(`timeout: ${what}`)), ms).unref())]);

let srv;        // --conformance --tls-self-signed
let ca;         // its certificate, trusted as the only CA
const opened = [];

before(async () => {
  srv = await startYoom({ args: ['--conformance', '--tls-self-signed', '--tls-san', 'yoom.test,10.9.8.7', '--header-timeout-ms', '1500'] });
  ca = readFileSync(path.join(srv.dataDir, 'tls', 'cert.pem'));
});
after(async () => {
  for (const s of opened) s.close();
  const code = await srv.stop();
  assert.equal(code, 0, srv.stderr().split('\n').slice(-40).join('\n'));
});

function get(url, opts = {}) {
  return withTimeout(new Promise((resolve, reject) => {
    const req = https.get(url, { ca, ...opts }, (res) => {
      const chunks = [];
      res.on('data', (d) => chunks.push(d));
      res.on('end', () => resolve({ res, body: Buffer.concat(chunks), socket: res.socket }));
    });
    req.on('error', reject);
  }), 20000, `GET ${url}`);
}

test('start-up line says https, and the URL has the https scheme', () => {
  assert.match(srv.stderr(), /listening on https:\/\/127\.0\.0\.1:\d+\//);
  assert.ok(srv.url.startsWith('https://127.0.0.1:'));
  assert.match(srv.stderr(), /TLS: new self-signed certificate/);
});

test('HTTPS GET / with the self-signed certificate as the only CA', async () => {
  const { res, body, socket } = await get(srv.url + '/', { agent: false });
  assert.equal(res.statusCode, 200);
  assert.match(body.toString(), /<html/i);
  assert.equal(socket.alpnProtocol, false); // https.get offers no ALPN
  const cert = socket.getPeerCertificate();
  for (const name of ['DNS:localhost', 'IP Address:127.0.0.1', 'IP Address:0:0:0:0:0:0:0:1', 'DNS:yoom.test', 'IP Address:10.9.8.7'])
    assert.ok(cert.subjectaltname.split(', ').includes(name), `${name} in ${cert.subjectaltname}`);
  const days = (Date.parse(cert.valid_to) - Date.parse(cert.valid_from)) / 86400e3;
  assert.ok(days >= 365 && days <= 366.1, `valid ${days} days`);
  assert.ok(['TLSv1.2', 'TLSv1.3'].includes(socket.getProtocol()));
  // The names are what a client checks: ours pass, another does not.
  assert.equal(tls.checkServerIdentity('yoom.test', cert), undefined);
  assert.ok(tls.checkServerIdentity('nope.test', cert) instanceof Error);
});

test('ALPN: http/1.1 chosen from h2 + http/1.1; TLS 1.1 refused', async () => {
  const s = tls.connect({ host: '127.0.0.1', port: srv.port, ca, servername: 'localhost', ALPNProtocols: ['h2', 'http/1.1'] });
  await withTimeout(new Promise((resolve, reject) => { s.once('secureConnect', resolve); s.once('error', reject); }), 20000, 'alpn');
  assert.equal(s.alpnProtocol, 'http/1.1');
  s.end();
  const old = tls.connect({ host: '127.0.0.1', port: srv.port, ca, servername: 'localhost', minVersion: 'TLSv1', maxVersion: 'TLSv1.1' });
  await assert.rejects(withTimeout(new Promise((resolve, reject) => { old.once('secureConnect', resolve); old.once('error', reject); }), 20000, 'tls1.1'));
  old.destroy();
});

for (const maxVersion of ['TLSv1.3', 'TLSv1.2']) {
  test(`session tickets: a second ${maxVersion} connection resumes`, async () => {
    const opts = { host: '127.0.0.1', port: srv.port, ca, servername: 'localhost', maxVersion };
    const session = await withTimeout(new Promise((resolve, reject) => {
      const s = tls.connect(opts);
      let sess = null;
      s.on('session', (x) => { sess = x; });
      s.on('secureConnect', () => s.write('GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n'));
      s.on('data', () => {});
      s.on('end', () => resolve(sess));
      s.on('error', reject);
    }), 20000, 'first connection');
    assert.ok(session, 'a ticket arrived');
    const s2 = tls.connect({ ...opts, session });
    await withTimeout(new Promise((resolve, reject) => { s2.once('secureConnect', resolve); s2.once('error', reject); }), 20000, 'resumption');
    assert.equal(s2.getProtocol(), maxVersion);
    assert.equal(s2.isSessionReused(), true);
    s2.destroy();
  });
}

test('keep-alive: several requests on one TLS connection', async () => {
  const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca });
  const sockets = new Set();
  for (let i = 0; i < 3; i++) {
    const { res, socket } = await get(srv.url + '/', { agent });
    assert.equal(res.statusCode, 200);
    sockets.add(socket);
  }
  assert.equal(sockets.size, 1);
  agent.destroy();
});

test('pipelining over TLS: 4 requests in one write, 4 responses in order, then close', async () => {
  const req = (p, last) => `GET ${p} HTTP/1.1\r\nHost: localhost\r\n${last ? 'Connection: close\r\n' : ''}\r\n`;
  const text = await withTimeout(new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port: srv.port, ca, servername: 'localhost' }, () => {
      s.write(req('/healthz') + req('/') + req('/healthz') + req('/healthz', true));
    });
    const got = [];
    s.on('data', (d) => got.push(d));
    s.on('end', () => resolve(Buffer.concat(got).toString('latin1')));
    s.on('error', reject);
  }), 20000, 'pipelined responses');
  const statuses = text.match(/HTTP\/1\.1 \d{3} /g); // "ok" bodies end without a newline
  assert.deepEqual(statuses, Array(4).fill('HTTP/1.1 200 '));
  assert.match(text, /<html/i);
  assert.ok(text.endsWith('ok'), text.slice(-50));
});

const PATH = '/sio-test/';
function client(opts) {
  const s = io(srv.url + '/test', { path: PATH, forceNew: true, reconnection: false, ca, ...opts });
  opened.push(s);
  return s;
}
const connected = (s) => withTimeout(new Promise((resolve, reject) => {
  if (s.connected) return resolve(s);
  s.once('connect', () => resolve(s));
  s.once('connect_error', reject);
}), 30000, 'connect');
const call = (s, ...args) => withTimeout(new Promise((resolve) => s.emit(...args, (...r) => resolve(r))), 30000, `ack ${args[0]}`);

for (const [name, transports] of [['wss (websocket)', ['websocket']], ['https long-polling', ['polling']]]) {
  test(`Socket.IO over ${name}: an event with an ack, both ways`, async () => {
    const s = await connected(client({ transports }));
    assert.equal(s.io.engine.transport.name, transports[0]);
    const big = 'x'.repeat(200000); // several TLS records each way
    assert.deepEqual(await call(s, 'echo', 1, 'two', { three: [true, null] }, big), [1, 'two', { three: [true, null] }, big]);
    s.on('q', (x, cb) => cb('re:' + x, x + 1));
    const answer = new Promise((resolve) => s.once('answer', (...a) => resolve(a)));
    s.emit('ask', 'q', 41);
    assert.deepEqual(await withTimeout(answer, 20000, 'answer'), [null, 're:41', 42]);
    s.disconnect();
  });
}

test('Socket.IO with rejectUnauthorized: false (the "accept the warning" way)', async () => {
  const s = await connected(client({ transports: ['websocket'], ca: undefined, rejectUnauthorized: false }));
  assert.deepEqual(await call(s, 'echo', 'ok'), ['ok']);
  s.disconnect();
});

// Resolves when the server ends the connection; collects what it sent.
function rawPeer(bytes) {
  return withTimeout(new Promise((resolve, reject) => {
    const sock = net.connect(srv.port, '127.0.0.1', () => { if (bytes) sock.write(bytes); });
    const got = [];
    sock.on('data', (d) => got.push(d));
    sock.on('error', () => {}); // a reset also ends it
    sock.on('close', () => resolve(Buffer.concat(got)));
  }), 20000, 'server closes the raw connection');
}

test('plain HTTP to the TLS port is closed, with no HTTP answer', async () => {
  const got = await rawPeer('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
  assert.ok(!got.toString('latin1').startsWith('HTTP/'), got.toString('latin1'));
});

test('garbage instead of a ClientHello is dropped while others are served', async () => {
  // A good client connected before, and one during.
  const before = await connected(client({ transports: ['websocket'] }));
  const drops = [rawPeer(Buffer.from([0x16, 3, 1, 0, 5, 1, 0, 0, 1, 0])), rawPeer(Buffer.from('\xff\xfe\x00 junk junk junk', 'latin1'))];
  const { res } = await get(srv.url + '/', { agent: false });
  assert.equal(res.statusCode, 200);
  await Promise.all(drops);
  assert.deepEqual(await call(before, 'echo', 'still here'), ['still here']);
  before.disconnect();
});

test('a peer that never finishes its handshake is dropped at the header timeout', async () => {
  const t0 = Date.now();
  await rawPeer(null); // connects, says nothing; --header-timeout-ms 1500
  assert.ok(Date.now() - t0 >= 1000, 'not before the deadline');
});

test('the self-signed pair is kept (key 0600) and reused on restart', async () => {
  const dir = path.join(srv.dataDir, 'tls');
  assert.equal(statSync(path.join(dir, 'key.pem')).mode & 0o777, 0o600);
  const other = await startYoom({ args: ['--conformance', '--tls-self-signed', '--tls-san', 'yoom.test'], dataDir: srv.dataDir });
  try {
    assert.match(other.stderr(), /TLS: reusing self-signed certificate/);
    assert.deepEqual(readFileSync(path.join(dir, 'cert.pem')), ca);
    const { res } = await get(other.url + '/', { agent: false });
    assert.equal(res.statusCode, 200);
  } finally {
    assert.equal(await other.stop(), 0);
  }
});

test('--tls-cert/--tls-key from openssl req', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'yoom-tls-'));
  const cert = path.join(dir, 'c.pem');
  const key = path.join(dir, 'k.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert,
    '-days', '2', '-subj', '/CN=yoom-test', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { stdio: 'ignore' });
  const s2 = await startYoom({ args: ['--tls-cert', cert, '--tls-key', key, '--quiet', '--no-stun'] });
  try {
    assert.ok(s2.url.startsWith('https://'));
    const { res, body, socket } = await get(s2.url + '/', { agent: false, ca: readFileSync(cert) });
    assert.equal(res.statusCode, 200);
    assert.match(body.toString(), /<html/i);
    assert.equal(socket.getPeerCertificate().subject.CN, 'yoom-test');
    // The app's own Socket.IO endpoint over wss.
    const s = io(s2.url, { transports: ['websocket'], forceNew: true, reconnection: false, ca: readFileSync(cert) });
    opened.push(s);
    await connected(s);
    assert.equal(s.io.engine.transport.name, 'websocket');
    s.disconnect();
  } finally {
    assert.equal(await s2.stop(), 0);
  }
});

test('bad TLS settings stop start-up with a clear message', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'yoom-tls-bad-'));
  const junk = path.join(dir, 'junk.pem');
  writeFileSync(junk, 'not a certificate\n');
  const run = (args) => spawnSync(yoomBin(), ['--host', '127.0.0.1', '--port', '0', '--data-dir', dir,
    '--web-root', path.join(ROOT, 'web'), '--no-stun', ...args], { encoding: 'utf8', timeout: 30000 });
  let r = run(['--tls-cert', path.join(dir, 'missing.pem'), '--tls-key', junk]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /TLS certificate .*missing\.pem: No such file/);
  r = run(['--tls-cert', junk, '--tls-key', junk]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /junk\.pem: not a PEM certificate/);
  r = run(['--tls-cert', junk]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /--tls-cert and --tls-key go together/);
  r = run(['--tls-self-signed', '--tls-san', 'bad name!']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /not a host name or IP address/);
});

const freePort = () => new Promise((resolve) => {
  const s = net.createServer().listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
});

function rawHttp(port, text) {
  return withTimeout(new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1', () => sock.write(text));
    const got = [];
    sock.on('data', (d) => got.push(d));
    sock.on('error', reject);
    sock.on('close', () => resolve(Buffer.concat(got).toString('latin1')));
  }), 20000, 'raw http');
}

test('--http-redirect-port: 301 to the same target over https', async () => {
  const rport = await freePort();
  const s3 = await startYoom({ args: ['--tls-self-signed', '--no-stun', '--http-redirect-port', String(rport)], dataDir: srv.dataDir });
  try {
    // Logged right after the "listening on" line the launcher waits for.
    const line = new RegExp(`plain http on 127\\.0\\.0\\.1:${rport} answers with a redirect to https`);
    for (let i = 0; i < 100 && !line.test(s3.stderr()); i++) await new Promise((r) => setTimeout(r, 50));
    assert.match(s3.stderr(), line);
    const res = await withTimeout(new Promise((resolve, reject) => {
      http.get({ host: '127.0.0.1', port: rport, path: '/r/Team%20sync?x=1', headers: { Host: `127.0.0.1:${rport}` } }, (r) => { r.resume(); resolve(r); }).on('error', reject);
    }), 20000, 'redirect');
    assert.equal(res.statusCode, 301);
    const loc = `https://127.0.0.1:${s3.port}/r/Team%20sync?x=1`;
    assert.equal(res.headers.location, loc);
    // Following it works (the page route answers over TLS).
    const { res: final } = await get(loc, { agent: false });
    assert.equal(final.statusCode, 200);
    // An IPv6 literal keeps its brackets; a missing or hostile Host gets a 400.
    assert.match(await rawHttp(rport, 'GET / HTTP/1.1\r\nHost: [::1]:80\r\nConnection: close\r\n\r\n'),
      new RegExp(`^HTTP/1.1 301 [^]*\r\nLocation: https://\\[::1\\]:${s3.port}/\r\n`));
    assert.match(await rawHttp(rport, 'GET / HTTP/1.0\r\n\r\n'), /^HTTP\/1.1 400 /);
    assert.match(await rawHttp(rport, 'GET / HTTP/1.1\r\nHost: a"b\r\nConnection: close\r\n\r\n'), /^HTTP\/1.1 400 /);
  } finally {
    assert.equal(await s3.stop(), 0, s3.stderr());
  }
  // Without TLS the flag is refused.
  const r = spawnSync(yoomBin(), ['--host', '127.0.0.1', '--port', '0', '--data-dir', srv.dataDir, '--no-stun',
    '--http-redirect-port', String(rport)], { encoding: 'utf8', timeout: 30000 });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /--http-redirect-port needs TLS/);
});
