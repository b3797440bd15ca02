// bench:traffic --survival's client: `node client.mjs HOST PORT COUNT INTERVAL_MS` opens COUNT
// HTTP/1.1 keep-alive connections to HOST:PORT and sends one GET on each every INTERVAL_MS
// (staggered), for as long as it runs. A connection that fails (reset, closed, no answer within
// a second, another backend than before) is broken and stays so. Prints `ready` once all are
// open, one JSON line per broken connection ({id, at, reason, backend}); on `refill` (stdin) it
// opens a new connection for each broken one and prints {refilled, open}; on `stop` a summary
// ({connections, requests, answered, broken}) and exits.
import { connect } from 'node:net';
import { createInterface } from 'node:readline';

const [host, port, countText, intervalText] = process.argv.slice(2);
const count = Number(countText);
const interval = Number(intervalText);
const ANSWER_MS = 1000;
let requests = 0;
let answered = 0;
let brokenCount = 0;
const out = (value) => process.stdout.write(`${JSON.stringify(value)}\n`);

function open(id) {
  const c = { id, backend: undefined, broken: false, buffer: '', pending: undefined, timer: undefined };
  c.socket = connect({ host, port: Number(port) });
  c.socket.setNoDelay(true);
  c.socket.setEncoding('latin1');
  const fail = (reason) => {
    if (c.broken) return;
    c.broken = true;
    brokenCount++;
    clearTimeout(c.pending);
    clearInterval(c.timer);
    c.socket.destroy();
    out({ id, at: Date.now(), reason, backend: c.backend });
  };
  c.fail = fail;
  c.socket.on('error', (error) => fail(error.code ?? error.message));
  c.socket.on('close', () => fail('closed'));
  c.socket.on('data', (chunk) => {
    c.buffer += chunk;
    for (;;) {
      const end = c.buffer.indexOf('\r\n\r\n');
      if (end < 0) return;
      const length = Number(/content-length: *(\d+)/i.exec(c.buffer.slice(0, end))?.[1] ?? 0);
      if (c.buffer.length < end + 4 + length) return;
      const body = c.buffer.slice(end + 4, end + 4 + length);
      c.buffer = c.buffer.slice(end + 4 + length);
      clearTimeout(c.pending);
      c.pending = undefined;
      answered++;
      const backend = body.split(' ')[0];
      if (c.backend !== undefined && backend !== c.backend) fail(`moved from ${c.backend} to ${backend}`);
      c.backend = backend;
    }
  });
  c.ready = new Promise((resolve) => {
    c.socket.once('connect', () => resolve(true));
    c.socket.once('error', () => resolve(false));
  });
  return c;
}

function ask(c) {
  if (c.broken || c.pending !== undefined) return;
  requests++;
  c.socket.write(`GET / HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
  c.pending = setTimeout(() => c.fail('no answer within 1 s'), ANSWER_MS);
}

const connections = [];
for (let id = 0; id < count; id++) {
  connections.push(open(id));
  if (id % 20 === 19) await new Promise((resolve) => setTimeout(resolve, 20));
}
await Promise.all(connections.map((c) => c.ready));
for (const c of connections) {
  ask(c);
  await new Promise((resolve) => setTimeout(resolve, interval / count));
  c.timer = setInterval(() => ask(c), interval);
}
process.stdout.write('ready\n');
let nextId = count;
async function refill() {
  const fresh = [];
  for (let k = 0; k < connections.length; k++) {
    if (!connections[k].broken) continue;
    connections[k] = open(nextId++);
    fresh.push(connections[k]);
  }
  await Promise.all(fresh.map((c) => c.ready));
  for (const c of fresh) {
    ask(c);
    c.timer = setInterval(() => ask(c), interval);
  }
  await new Promise((resolve) => setTimeout(resolve, 3 * interval));
  out({ refilled: fresh.length, open: connections.filter((c) => !c.broken).length });
}

createInterface({ input: process.stdin }).on('line', (line) => {
  if (line === 'refill') {
    void refill();
    return;
  }
  if (line !== 'stop') return;
  for (const c of connections) {
    c.broken = true;
    clearInterval(c.timer);
    clearTimeout(c.pending);
    c.socket.destroy();
  }
  out({ connections: nextId, requests, answered, broken: brokenCount });
  process.exit(0);
});
