// The benchmark workload on Bun's built-in server (uWebSockets underneath),
// speaking just enough Engine.IO v4 + Socket.IO v5 over WebSocket for the
// load generator and socket.io-client: the open packet, CONNECT to "/",
// ping/pong, events with acks. Rooms are Bun pub/sub topics, and
// server.publish() reaches every subscriber, the sender included.
//   join(room) + ack, bcast(room, payload) -> msg(payload) to the room
//   (members only), echo(payload) + ack -> ack(payload)
// Not a full Socket.IO server: no polling, no binary packets, no namespaces
// but "/", and pings go to everyone from one timer (no per-client pong
// timeout), which is the cheapest a uWS-based server could do.
// Usage: bun bun-server.js PORT
const port = Number(process.argv[2] || 3000);
const PING_MS = 25000;
let nextId = 0;

const server = Bun.serve({
  hostname: '127.0.0.1',
  port,
  fetch(req, srv) {
    const url = new URL(req.url);
    if (url.pathname === '/socket.io/' && url.searchParams.get('EIO') === '4' &&
        url.searchParams.get('transport') === 'websocket') {
      const sid = (++nextId).toString(36).padStart(8, '0');
      if (srv.upgrade(req, { data: { sid, rooms: new Set() } })) return undefined;
    }
    return new Response('not found', { status: 404 });
  },
  websocket: {
    maxPayloadLength: 1e6,
    perMessageDeflate: false,
    idleTimeout: 0,
    open(ws) {
      ws.subscribe('\0all');
      ws.send(`0{"sid":"${ws.data.sid}","upgrades":[],"pingInterval":${PING_MS},"pingTimeout":20000,"maxPayload":1000000}`);
    },
    message(ws, msg) {
      if (typeof msg !== 'string' || msg.length < 1) return;
      const t = msg.charCodeAt(0);
      if (t === 51 /* '3' pong */) return;
      if (t === 49 /* '1' close */) { ws.close(); return; }
      if (t !== 52 /* '4' */) return;
      if (msg.startsWith('40')) { ws.send(`40{"sid":"s${ws.data.sid}"}`); return; }
      if (msg.startsWith('41')) { ws.close(); return; }
      if (!msg.startsWith('42')) return;
      let i = 2;
      while (i < msg.length && msg.charCodeAt(i) >= 48 && msg.charCodeAt(i) <= 57) i++;
      const ackId = i > 2 ? msg.slice(2, i) : null;
      let args;
      try { args = JSON.parse(msg.slice(i)); } catch { ws.close(); return; }
      if (!Array.isArray(args)) return;
      const [ev, a, b] = args;
      if (ev === 'join' && typeof a === 'string') {
        ws.subscribe(a);
        ws.data.rooms.add(a);
        if (ackId !== null) ws.send(`43${ackId}[]`);
      } else if (ev === 'bcast' && ws.data.rooms.has(a)) {
        server.publish(a, `42["msg",${JSON.stringify(b)}]`);
        if (ackId !== null) ws.send(`43${ackId}[]`);
      } else if (ev === 'echo' && ackId !== null) {
        ws.send(`43${ackId}${JSON.stringify([a])}`);
      }
    },
  },
});
setInterval(() => server.publish('\0all', '2'), PING_MS);
process.stderr.write(`listening on http://127.0.0.1:${server.port}/\n`);
for (const s of ['SIGTERM', 'SIGINT']) process.on(s, () => process.exit(0));
