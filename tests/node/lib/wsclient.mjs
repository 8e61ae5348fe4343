// A raw WebSocket test client on net.Socket: it writes exactly the bytes a test
// asks for (bad frames, odd chops, RSV bits, reserved opcodes) and records every
// frame and the TCP close it gets back. No WebSocket library is involved.
//
//   const c = await RawWs.connect('ws://127.0.0.1:PORT/ws-echo');
//   c.sendFrame(OP.TEXT, 'hello');                       // masked, FIN
//   c.write(frame(OP.TEXT, 'a', { fin: false }), 1);     // octet-wise
//   const f = await c.nextFrame();                       // { opcode, fin, rsv, payload }
//   const r = await c.closeHandshake();                  // { code, reason, tcpClosed }
import net from 'node:net';
import crypto from 'node:crypto';

export const OP = { CONT: 0, TEXT: 1, BINARY: 2, CLOSE: 8, PING: 9, PONG: 10 };
const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

export function acceptKey(key) {
  return crypto.createHash('sha1').update(key + GUID).digest('base64');
}

const toBuf = (p) => (Buffer.isBuffer(p) ? p : p instanceof Uint8Array ? Buffer.from(p) : Buffer.from(p ?? '', 'utf8'));

// Encodes one client frame. opts: fin (true), rsv (0..7), mask (true), maskKey,
// lenForm ('7'|'16'|'64' to force a length encoding).
export function frame(opcode, payload = '', { fin = true, rsv = 0, mask = true, maskKey, lenForm } = {}) {
  const p = toBuf(payload);
  const n = p.length;
  const form = lenForm || (n < 126 ? '7' : n <= 0xffff ? '16' : '64');
  const head = [(fin ? 0x80 : 0) | ((rsv & 7) << 4) | (opcode & 0x0f)];
  const m = mask ? 0x80 : 0;
  let ext = Buffer.alloc(0);
  if (form === '7') head.push(m | n);
  else if (form === '16') { head.push(m | 126); ext = Buffer.alloc(2); ext.writeUInt16BE(n); }
  else { head.push(m | 127); ext = Buffer.alloc(8); ext.writeBigUInt64BE(BigInt(n)); }
  if (!mask) return Buffer.concat([Buffer.from(head), ext, p]);
  const key = maskKey || crypto.randomBytes(4);
  const body = Buffer.alloc(n);
  for (let i = 0; i < n; i++) body[i] = p[i] ^ key[i & 3];
  return Buffer.concat([Buffer.from(head), ext, key, body]);
}

export function closePayload(code, reason = '') {
  if (code === undefined) return Buffer.alloc(0);
  const r = toBuf(reason);
  const b = Buffer.alloc(2 + r.length);
  b.writeUInt16BE(code);
  r.copy(b, 2);
  return b;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export class RawWs {
  constructor(sock) {
    this.sock = sock;
    this.buf = Buffer.alloc(0);
    this.frames = [];       // unread frames
    this.all = [];          // every frame received, in order
    this.waiters = [];
    this.tcpClosed = false;
    this.socketError = null;
    this.protocolError = null;
    sock.on('data', (d) => this._onData(d));
    sock.on('error', (e) => { this.socketError = e; });
    sock.on('close', () => { this.tcpClosed = true; this._wake(); });
    sock.resume(); // readHttpHead paused it
  }

  // Opens a TCP connection, performs the handshake and returns the client.
  // url: ws://host:port/path. extra: header lines to add. pre: bytes to send
  // right behind the request head, in the same write (CVE-2022-21676 shape).
  static async connect(url, { headers = {}, pre, timeoutMs = 5000 } = {}) {
    const u = new URL(url);
    const key = crypto.randomBytes(16).toString('base64');
    const lines = [
      `GET ${u.pathname}${u.search} HTTP/1.1`,
      `Host: ${u.host}`,
      'Upgrade: websocket',
      'Connection: Upgrade',
      `Sec-WebSocket-Key: ${key}`,
      'Sec-WebSocket-Version: 13',
      ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
    ];
    const head = Buffer.from(lines.join('\r\n') + '\r\n\r\n');
    const sock = net.connect({ host: u.hostname, port: Number(u.port) });
    sock.setNoDelay(true);
    await new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('connect timeout')), timeoutMs);
      sock.once('connect', () => { clearTimeout(t); resolve(); });
      sock.once('error', (e) => { clearTimeout(t); reject(e); });
    });
    sock.write(pre ? Buffer.concat([head, toBuf(pre)]) : head);
    const { status, headers: rh, rest } = await readHttpHead(sock, timeoutMs);
    if (status !== 101) {
      sock.destroy();
      throw new Error(`handshake failed: HTTP ${status}`);
    }
    if (rh['sec-websocket-accept'] !== acceptKey(key)) throw new Error('bad Sec-WebSocket-Accept');
    if ((rh.upgrade || '').toLowerCase() !== 'websocket') throw new Error('bad Upgrade header in 101');
    const c = new RawWs(sock);
    if (rest.length) c._onData(rest);
    return c;
  }

  _onData(d) {
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    for (;;) {
      const b = this.buf;
      if (b.length < 2) break;
      const fin = (b[0] & 0x80) !== 0;
      const rsv = (b[0] >> 4) & 7;
      const opcode = b[0] & 0x0f;
      const masked = (b[1] & 0x80) !== 0;
      let len = b[1] & 0x7f;
      let off = 2;
      if (len === 126) { if (b.length < 4) break; len = b.readUInt16BE(2); off = 4; }
      else if (len === 127) { if (b.length < 10) break; len = Number(b.readBigUInt64BE(2)); off = 10; }
      if (masked) {
        // A server must never mask (RFC 6455 §5.1): record it as a protocol error.
        this.protocolError = 'server frame is masked';
        off += 4;
      }
      if (b.length < off + len) break;
      const payload = Buffer.from(b.subarray(off, off + len));
      this.buf = b.subarray(off + len);
      const f = { opcode, fin, rsv, payload };
      this.frames.push(f);
      this.all.push(f);
    }
    this._wake();
  }

  _wake() {
    const w = this.waiters;
    this.waiters = [];
    for (const fn of w) fn();
  }

  _wait(ms) {
    return new Promise((resolve) => {
      const t = setTimeout(() => { this.waiters = this.waiters.filter((x) => x !== done); resolve(); }, ms);
      const done = () => { clearTimeout(t); resolve(); };
      this.waiters.push(done);
    });
  }

  // Writes bytes: in one write (chop 0) or in chop-sized writes, yielding to
  // the event loop between writes so that they leave as separate segments.
  async write(bytes, chop = 0) {
    const b = toBuf(bytes);
    if (this.sock.destroyed) return;
    if (!chop || chop >= b.length) { this.sock.write(b); return; }
    for (let i = 0; i < b.length; i += chop) {
      if (this.sock.destroyed) return;
      this.sock.write(b.subarray(i, i + chop));
      // Yield every few writes: enough to split segments without crawling.
      if (chop < 64 || (i / chop) % 16 === 0) await new Promise((r) => setImmediate(r));
    }
  }

  sendFrame(opcode, payload, opts) {
    if (!this.sock.destroyed) this.sock.write(frame(opcode, payload, opts));
  }

  // Next frame (any opcode), or null on TCP close or timeout.
  async nextFrame(timeoutMs = 5000) {
    const end = Date.now() + timeoutMs;
    while (!this.frames.length) {
      if (this.tcpClosed) return null;
      const left = end - Date.now();
      if (left <= 0) return null;
      await this._wait(left);
    }
    return this.frames.shift();
  }

  // Next data message, reassembling fragments; control frames met on the way
  // are kept in order in the returned list `before`. Returns null on close/timeout.
  async nextMessage(timeoutMs = 5000) {
    const parts = [];
    let opcode = null;
    const before = [];
    for (;;) {
      const f = await this.nextFrame(timeoutMs);
      if (!f) return null;
      if (f.opcode >= 8) { before.push(f); if (f.opcode === OP.CLOSE) return { closed: f, before }; continue; }
      if (opcode === null) opcode = f.opcode;
      parts.push(f.payload);
      if (f.fin) return { opcode, payload: Buffer.concat(parts), before };
    }
  }

  // Waits for nothing to arrive for ms; returns the frames that did arrive.
  async quiet(ms) {
    await sleep(ms);
    const got = this.frames;
    this.frames = [];
    return got;
  }

  // Waits for the server's close frame (skipping nothing: data frames seen
  // before it are returned in `skipped`), answers it with a close frame as the
  // RFC asks, then waits for the server to close TCP.
  //   strictTcp: the server must close TCP by itself within tcpTimeoutMs;
  //   otherwise we half-close after tcpTimeoutMs and wait again (npm ws).
  async awaitClose({ timeoutMs = 5000, tcpTimeoutMs = 2000, strictTcp = true, reply = true } = {}) {
    const skipped = [];
    let closeFrame = null;
    for (;;) {
      const f = await this.nextFrame(timeoutMs);
      if (!f) break;
      if (f.opcode === OP.CLOSE) { closeFrame = f; break; }
      skipped.push(f);
    }
    let code = null;
    let reason = '';
    if (closeFrame) {
      const p = closeFrame.payload;
      code = p.length >= 2 ? p.readUInt16BE(0) : 1005;
      reason = p.subarray(2).toString('utf8');
      if (reply && !this.sock.destroyed && !this.tcpClosed) {
        try { this.sock.write(frame(OP.CLOSE, p.length >= 2 ? p.subarray(0, 2) : Buffer.alloc(0))); } catch { /* peer gone */ }
      }
    }
    let serverClosedTcp = await this.waitTcpClose(strictTcp ? tcpTimeoutMs : Math.min(tcpTimeoutMs, 300));
    if (!serverClosedTcp && !strictTcp) {
      this.sock.end();
      serverClosedTcp = await this.waitTcpClose(tcpTimeoutMs);
    }
    return { code, reason, closeFrame, skipped, tcpClosed: this.tcpClosed, serverClosedTcp };
  }

  async waitTcpClose(ms) {
    const end = Date.now() + ms;
    while (!this.tcpClosed) {
      const left = end - Date.now();
      if (left <= 0) return false;
      await this._wait(left);
    }
    return true;
  }

  destroy() {
    this.sock.destroy();
  }
}

// Reads an HTTP response head from sock. Returns { status, headers (lower-case
// names, repeated ones joined with ', '), rest (bytes after the head) }.
export function readHttpHead(sock, timeoutMs = 5000) {
  return new Promise((resolve, reject) => {
    let acc = Buffer.alloc(0);
    const t = setTimeout(() => { cleanup(); reject(new Error('no HTTP response head')); }, timeoutMs);
    const onData = (d) => {
      acc = Buffer.concat([acc, d]);
      const end = acc.indexOf('\r\n\r\n');
      if (end < 0) return;
      cleanup();
      const lines = acc.subarray(0, end).toString('latin1').split('\r\n');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0]);
      const headers = {};
      for (const l of lines.slice(1)) {
        const i = l.indexOf(':');
        const k = l.slice(0, i).trim().toLowerCase();
        const v = l.slice(i + 1).trim();
        headers[k] = headers[k] !== undefined ? `${headers[k]}, ${v}` : v;
      }
      sock.pause();
      resolve({ status: m ? Number(m[1]) : 0, headers, rest: acc.subarray(end + 4) });
    };
    const onClose = () => { cleanup(); reject(new Error('closed before the response head')); };
    function cleanup() { clearTimeout(t); sock.off('data', onData); sock.off('close', onClose); }
    sock.on('data', onData);
    sock.on('close', onClose);
  });
}

// Sends a raw request (a string or Buffer) on a new connection and returns
// { status, headers, body, closed } where closed says whether the server closed
// the connection within closeWaitMs after the response head.
export async function rawRequest(url, request, { timeoutMs = 5000, closeWaitMs = 1500 } = {}) {
  const u = new URL(url);
  const sock = net.connect({ host: u.hostname, port: Number(u.port) });
  sock.on('error', () => {});
  let closed = false;
  sock.on('close', () => { closed = true; });
  await new Promise((resolve, reject) => { sock.once('connect', resolve); sock.once('error', reject); });
  sock.write(request);
  const head = await readHttpHead(sock, timeoutMs);
  let body = head.rest;
  sock.on('data', (d) => { body = Buffer.concat([body, d]); });
  sock.resume();
  const end = Date.now() + closeWaitMs;
  while (!closed && Date.now() < end) await sleep(20);
  sock.destroy();
  return { ...head, body, closed };
}
