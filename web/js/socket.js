// The one Socket.IO connection of the page, and request/ack as promises.
import { io } from '/socket.io/socket.io.esm.min.js';

// auth.yoom: this is yoom's UI, which does not want seed 000's messages() replay.
export const socket = io({ autoConnect: true, auth: { yoom: 1 } });

// Emits event with payload and resolves with the ack, or rejects with the
// server's {error} message (or a timeout) as an Error.
export function request(event, payload = {}, timeoutMs = 8000) {
  return new Promise((resolve, reject) => {
    socket.timeout(timeoutMs).emit(event, payload, (err, res) => {
      if (err) return reject(new Error('The server did not answer. Check your connection.'));
      if (res && res.error) return reject(new Error(res.error));
      resolve(res);
    });
  });
}
