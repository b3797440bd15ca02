// A tiny HTTP backend for the data-plane traffic tests: answers every request with its name.
// `/keep` keeps the connection open; anything else closes it after the answer (the server closes
// first, so the client's port is free again at once and a test can reuse it for the same 5-tuple).
import { createServer } from 'node:http';

const [name, port] = process.argv.slice(2);
const server = createServer((req, res) => {
  if (req.url !== '/keep') res.setHeader('connection', 'close');
  res.end(`${name}\n`);
});
server.listen(Number(port), '0.0.0.0', () => process.stdout.write('ready\n'));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
