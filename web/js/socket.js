// The one Socket.IO connection of the page, and request/ack as promises.
import { io } from '/socket.io/socket.io.esm.min.js';

export const socket = io({ autoConnect: true });

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
