// A tiny TCP backend for the tunnel tests: for every line it reads, it answers one line with its
// name and the peer it sees (the client's own address when nothing rewrote it). Connections stay
// open until the client closes them.
import { createServer } from 'node:net';

const [name, port] = process.argv.slice(2);
const server = createServer((socket) => {
  socket.setEncoding('utf8');
  let buffer = '';
  socket.on('data', (chunk) => {
    buffer += chunk;
    for (let at = buffer.indexOf('\n'); at >= 0; at = buffer.indexOf('\n')) {
      buffer = buffer.slice(at + 1);
      socket.write(`${name} ${socket.remoteAddress}:${socket.remotePort}\n`);
    }
  });
  socket.on('error', () => {});
});
server.listen(Number(port), '0.0.0.0', () => process.stdout.write('ready\n'));
process.on('SIGTERM', () => process.exit(0));
