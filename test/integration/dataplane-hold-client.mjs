// One keep-alive connection to URL from a fixed local port, for the drain tests: each line on stdin
// sends one request on it and prints {body, reused} or {error} as a JSON line.
import { Agent, get } from 'node:http';
import { createInterface } from 'node:readline';

const [url, localPort] = process.argv.slice(2);
const agent = new Agent({ keepAlive: true, maxSockets: 1 });
let first = true;

function request() {
  // Only the first connection binds the port: after a reset, the agent opens a new one anywhere.
  const options = first ? { agent, localPort: Number(localPort) } : { agent };
  first = false;
  const req = get(url, options, (res) => {
    let body = '';
    res.on('data', (chunk) => {
      body += chunk;
    });
    res.on('end', () =>
      process.stdout.write(`${JSON.stringify({ body: body.trim(), reused: req.reusedSocket })}\n`),
    );
  });
  req.setTimeout(3000, () => req.destroy(new Error('timeout')));
  req.on('error', (error) =>
    process.stdout.write(`${JSON.stringify({ error: error.code ?? error.message })}\n`),
  );
}

process.stdout.write('ready\n');
createInterface({ input: process.stdin }).on('line', request);
