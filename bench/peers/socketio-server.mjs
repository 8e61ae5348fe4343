// The benchmark workload on Node socket.io 4.8 (see bench/README.md):
//   join(room, ack) -> joins, ack();  bcast(room, payload) -> io.to(room).emit('msg', payload)
//   (sender included, members only);  echo(payload, ack) -> ack(payload)
// Usage: node socketio-server.mjs PORT   (prints "listening on http://127.0.0.1:PORT/" on stderr)
import { createServer } from 'node:http';
import { Server } from 'socket.io';

const port = Number(process.argv[2] || 3000);
const http = createServer();
// websocket only: the load generator never polls; perMessageDeflate off (the default) like the others.
const io = new Server(http, { transports: ['websocket'], serveClient: false, maxHttpBufferSize: 1e6 });

io.on('connection', (socket) => {
  socket.on('join', (room, ack) => {
    if (typeof room === 'string') socket.join(room);
    if (typeof ack === 'function') ack();
  });
  socket.on('bcast', (room, payload) => {
    if (socket.rooms.has(room)) io.to(room).emit('msg', payload);
  });
  socket.on('echo', (payload, ack) => {
    if (typeof ack === 'function') ack(payload);
  });
});

http.listen(port, '127.0.0.1', () => {
  process.stderr.write(`listening on http://127.0.0.1:${http.address().port}/\n`);
});
for (const s of ['SIGTERM', 'SIGINT']) process.on(s, () => process.exit(0));
