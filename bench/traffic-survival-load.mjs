// bench:traffic --survival's throughput point: `node load.mjs HOST PORT WORKERS SECONDS` runs
// WORKERS keep-alive connections in a closed loop of GET /bytes (64 KiB) for SECONDS and prints
// {requests, failed, mbit} (the first second left out).
import { Agent, request } from 'node:http';

const [host, port, workersText, secondsText] = process.argv.slice(2);
const workers = Number(workersText);
const seconds = Number(secondsText);
const agent = new Agent({ keepAlive: true, maxSockets: workers });
const start = Date.now();
const warm = start + 1000;
const end = start + seconds * 1000;
let requests = 0;
let failed = 0;
let bytes = 0;

function once() {
  return new Promise((resolve) => {
    const req = request({ host, port: Number(port), path: '/bytes', agent, timeout: 5000 }, (res) => {
      let got = 0;
      res.on('data', (chunk) => {
        got += chunk.length;
      });
      res.on('end', () => {
        if (Date.now() >= warm) {
          requests++;
          bytes += got;
        }
        resolve();
      });
      res.on('error', () => {
        failed++;
        resolve();
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => {
      failed++;
      resolve();
    });
    req.end();
  });
}

async function worker() {
  while (Date.now() < end) await once();
}

await Promise.all(Array.from({ length: workers }, worker));
const mbit = (bytes * 8) / ((end - warm) / 1000) / 1e6;
process.stdout.write(`${JSON.stringify({ requests, failed, mbit: Math.round(mbit * 10) / 10 })}\n`);
process.exit(0);
