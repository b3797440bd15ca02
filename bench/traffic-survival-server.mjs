// bench:traffic --survival's backend: `node server.mjs NAME PORT`, an HTTP/1.1 server that answers
// every request with its name and the client address it sees (GET /bytes: 64 KiB, for the
// throughput point), and keeps connections open as long as the client does. Prints `ready` once
// listening.
import { createServer } from 'node:http';

const [name, port] = process.argv.slice(2);
const BULK = Buffer.alloc(64 * 1024, 'x');
const server = createServer((request, response) => {
  if (request.url === '/bytes') {
    response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': BULK.length });
    response.end(BULK);
    return;
  }
  const body = `${name} ${request.socket.remoteAddress}:${request.socket.remotePort}\n`;
  response.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) });
  response.end(body);
});
server.keepAliveTimeout = 0;
server.requestTimeout = 0;
server.headersTimeout = 0;
server.listen(Number(port), '0.0.0.0', () => process.stdout.write('ready\n'));
process.on('SIGTERM', () => process.exit(0));
