// The benchmark workload on Node ws 8, raw WebSocket with JSON text frames and
// the same room semantics as the Socket.IO peers (see bench/README.md):
//   ["join", room, id]       -> joins, ["ack", id]
//   ["bcast", room, payload] -> ["msg", payload] to every member, sender included
//   ["echo", payload, id]    -> ["ack", id, payload]
// Usage: node ws-server.mjs PORT
import { WebSocketServer } from 'ws';

const port = Number(process.argv[2] || 3000);
const rooms = new Map(); // room -> Set of sockets
const wss = new WebSocketServer({ host: '127.0.0.1', port, perMessageDeflate: false, maxPayload: 1e6 });

wss.on('connection', (ws) => {
  const mine = new Set();
  ws.on('message', (data) => {
    let m;
    try { m = JSON.parse(data); } catch { return; }
    if (!Array.isArray(m)) return;
    if (m[0] === 'join' && typeof m[1] === 'string') {
      let r = rooms.get(m[1]);
      if (!r) rooms.set(m[1], (r = new Set()));
      r.add(ws);
      mine.add(m[1]);
      ws.send(JSON.stringify(['ack', m[2]]));
    } else if (m[0] === 'bcast' && mine.has(m[1])) {
      // Encoded once per broadcast, like socket.io's adapter does.
      const out = JSON.stringify(['msg', m[2]]);
      for (const peer of rooms.get(m[1])) peer.send(out);
    } else if (m[0] === 'echo') {
      ws.send(JSON.stringify(['ack', m[2], m[1]]));
    }
  });
  ws.on('close', () => {
    for (const name of mine) {
      const r = rooms.get(name);
      r.delete(ws);
      if (r.size === 0) rooms.delete(name);
    }
  });
});
wss.on('listening', () => {
  process.stderr.write(`listening on http://127.0.0.1:${wss.address().port}/\n`);
});
for (const s of ['SIGTERM', 'SIGINT']) process.on(s, () => process.exit(0));
