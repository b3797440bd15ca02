// Long-lived TCP connections for the tunnel tests: `node client.mjs HOST PORT LOCALPORT...` opens
// one connection per local port (from 10.90.0.1) and keeps it. Each line on stdin sends one line
// on every connection still open and prints a JSON array, per connection in the given order, of
// {port, answer} or {port, error}. A connection that failed stays failed (it is not reopened).
import { connect } from 'node:net';
import { createInterface } from 'node:readline';

const [host, port, ...localPorts] = process.argv.slice(2);
const connections = localPorts.map((p) => {
  const c = { port: Number(p), error: undefined, waiting: undefined, buffer: '' };
  c.socket = connect({ host, port: Number(port), localAddress: '10.90.0.1', localPort: c.port });
  c.socket.setEncoding('utf8');
  c.socket.setNoDelay(true);
  const fail = (error) => {
    c.error ??= error.code ?? error.message;
    c.waiting?.({ port: c.port, error: c.error });
    c.waiting = undefined;
  };
  c.socket.on('error', fail);
  c.socket.on('close', () => fail(new Error('closed')));
  c.socket.on('data', (chunk) => {
    c.buffer += chunk;
    const at = c.buffer.indexOf('\n');
    if (at < 0) return;
    const answer = c.buffer.slice(0, at);
    c.buffer = c.buffer.slice(at + 1);
    c.waiting?.({ port: c.port, answer });
    c.waiting = undefined;
  });
  c.ready = new Promise((resolve) => {
    c.socket.once('connect', resolve);
    c.socket.once('error', resolve);
  });
  return c;
});

function ask(c) {
  if (c.error) return Promise.resolve({ port: c.port, error: c.error });
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      c.error = 'timeout';
      c.socket.destroy();
      resolve({ port: c.port, error: 'timeout' });
    }, 3000);
    c.waiting = (result) => {
      clearTimeout(timer);
      resolve(result);
    };
    c.socket.write('ping\n');
  });
}

await Promise.all(connections.map((c) => c.ready));
process.stdout.write('ready\n');
createInterface({ input: process.stdin }).on('line', async (line) => {
  if (line === 'close') {
    for (const c of connections) c.socket.destroy();
    process.exit(0);
  }
  const results = await Promise.all(connections.map(ask));
  process.stdout.write(`${JSON.stringify(results)}\n`);
});
