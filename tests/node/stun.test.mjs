// The built-in STUN server of the running binary (RFC 8489 Binding over UDP on
// 127.0.0.1) and GET /api/ice-servers: yoom's own STUN by default, none with
// --no-stun, TURN entries with static or time-limited (TURN REST) credentials.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import http from 'node:http';
import { createHmac, randomBytes } from 'node:crypto';
import { startYoom } from './lib/yoom.mjs';

const MAGIC = 0x2112a442;

function stunPort(srv) {
  const m = /stun: listening on udp 127\.0\.0\.1:(\d+)/.exec(srv.stderr());
  assert.ok(m, `no STUN listening line in:\n${srv.stderr()}`);
  return Number(m[1]);
}

// Sends a Binding request from a fresh socket until an answer with our
// transaction id arrives (UDP may drop; a bounded number of tries).
async function binding(port) {
  const sock = dgram.createSocket('udp4');
  await new Promise((r) => sock.bind(0, '127.0.0.1', r));
  const txid = randomBytes(12);
  const req = Buffer.alloc(20);
  req.writeUInt16BE(0x0001, 0);
  req.writeUInt16BE(0, 2);
  req.writeUInt32BE(MAGIC, 4);
  txid.copy(req, 8);
  try {
    return await new Promise((resolve, reject) => {
      let tries = 0;
      const send = () => {
        if (++tries > 10) { clearInterval(timer); reject(new Error('no STUN answer after 10 tries')); return; }
        sock.send(req, port, '127.0.0.1');
      };
      const timer = setInterval(send, 500);
      sock.on('message', (msg) => {
        if (msg.length >= 20 && msg.subarray(8, 20).equals(txid)) { clearInterval(timer); resolve({ msg, local: sock.address() }); }
      });
      send();
    });
  } finally {
    sock.close();
  }
}

// XOR-MAPPED-ADDRESS (0x0020) of a Binding success response.
function xorMapped(msg) {
  assert.equal(msg.readUInt16BE(0), 0x0101, 'Binding success response');
  assert.equal(msg.readUInt32BE(4), MAGIC);
  const len = msg.readUInt16BE(2);
  assert.equal(msg.length, 20 + len);
  for (let off = 20; off + 4 <= msg.length;) {
    const type = msg.readUInt16BE(off);
    const alen = msg.readUInt16BE(off + 2);
    if (type === 0x0020) {
      const v = msg.subarray(off + 4, off + 4 + alen);
      assert.equal(v[1], 0x01, 'IPv4 family');
      const port = v.readUInt16BE(2) ^ (MAGIC >>> 16);
      const addr = (v.readUInt32BE(4) ^ MAGIC) >>> 0;
      return { port, address: [24, 16, 8, 0].map((s) => (addr >>> s) & 255).join('.') };
    }
    off += 4 + ((alen + 3) & ~3);
  }
  assert.fail('no XOR-MAPPED-ADDRESS');
}

// node:http rather than fetch, which does not let a caller set Host.
function iceServers(srv, host, method = 'GET') {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: srv.port, path: '/api/ice-servers', method,
      headers: host ? { Host: host } : {} }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode, cache: res.headers['cache-control'],
        body: res.statusCode === 200 ? JSON.parse(text) : text }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('a UDP client gets its mapped address from the running binary', { timeout: 30000 }, async () => {
  const srv = await startYoom({ args: ['--stun-port', '0'] });
  try {
    const port = stunPort(srv);
    const { msg, local } = await binding(port);
    assert.deepEqual(xorMapped(msg), { address: '127.0.0.1', port: local.port });
    // The browser is told about the same server, addressed by the host it used.
    const ice = await iceServers(srv);
    assert.equal(ice.status, 200);
    assert.equal(ice.cache, 'no-store');
    assert.deepEqual(ice.body, [{ urls: `stun:127.0.0.1:${port}` }]);
    assert.deepEqual((await iceServers(srv, 'yoom.example:8443')).body, [{ urls: `stun:yoom.example:${port}` }]);
    // A Host that cannot be put in a URL is refused rather than echoed.
    assert.equal((await iceServers(srv, 'evil"host')).status, 400);
    assert.equal((await iceServers(srv, undefined, 'POST')).status, 405);
  } finally {
    assert.equal(await srv.stop(), 0, srv.stderr());
  }
  assert.match(srv.stderr(), /stun: stopped: \d+ requests, [1-9]\d* answered/);
});

test('--no-stun: no STUN socket and an empty ICE list', { timeout: 30000 }, async () => {
  const srv = await startYoom({ args: ['--no-stun'] });
  try {
    assert.doesNotMatch(srv.stderr(), /stun: listening/);
    assert.deepEqual((await iceServers(srv)).body, []);
  } finally {
    assert.equal(await srv.stop(), 0, srv.stderr());
  }
});

test('TURN entries: static credentials, and REST credentials from a shared secret', { timeout: 30000 }, async () => {
  const stat = await startYoom({ args: ['--no-stun', '--turn-urls', 'turn:turn.example.org:3478, turns:turn.example.org:5349?transport=tcp',
    '--turn-username', 'alice', '--turn-credential', 'pa"ss'] });
  try {
    assert.deepEqual((await iceServers(stat)).body, [{
      urls: ['turn:turn.example.org:3478', 'turns:turn.example.org:5349?transport=tcp'], username: 'alice', credential: 'pa"ss',
    }]);
  } finally {
    assert.equal(await stat.stop(), 0, stat.stderr());
  }

  const rest = await startYoom({ args: ['--stun-port', '0', '--turn-urls', 'turn:127.0.0.1:3479', '--turn-secret', 's3cret',
    '--turn-username', 'ignored', '--turn-ttl', '3600'] });
  try {
    const before = Math.floor(Date.now() / 1000);
    const { body } = await iceServers(rest);
    const after = Math.floor(Date.now() / 1000);
    assert.equal(body.length, 2);
    assert.deepEqual(body[0], { urls: `stun:127.0.0.1:${stunPort(rest)}` });
    const turn = body[1];
    assert.deepEqual(turn.urls, ['turn:127.0.0.1:3479']);
    // coturn's use-auth-secret: username "<expiry>:<user>", credential base64(HMAC-SHA1(secret, username)).
    const m = /^(\d+):(.+)$/.exec(turn.username);
    assert.ok(m, turn.username);
    const expiry = Number(m[1]);
    assert.ok(expiry >= before + 3600 && expiry <= after + 3600, `expiry ${expiry} not now+3600`);
    assert.equal(turn.credential, createHmac('sha1', 's3cret').update(turn.username).digest('base64'));
  } finally {
    assert.equal(await rest.stop(), 0, rest.stderr());
  }
});

test('unusable TURN settings stop the server at startup', { timeout: 30000 }, async () => {
  await assert.rejects(startYoom({ args: ['--no-stun', '--turn-urls', 'http://turn.example.org'] }), /turn-urls/);
});
