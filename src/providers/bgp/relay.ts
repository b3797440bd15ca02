import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';

/*
 * exabgp's API process: a pipe between exabgp's stdin/stdout and the sidecar's unix socket. It is
 * deliberately tiny and imports nothing from portlb, so that exabgp can (re)start it quickly.
 * If the sidecar goes away, the relay stops its parent exabgp: an exabgp left running without the
 * sidecar would keep announcing the VIP with nobody checking health.
 */

const CONNECT_ATTEMPTS = 50;
const CONNECT_DELAY_MS = 100;

function parentIsExabgp(): boolean {
  try {
    return readFileSync(`/proc/${process.ppid}/cmdline`, 'utf8').includes('exabgp');
  } catch {
    return false;
  }
}

function giveUp(why: string): never {
  process.stderr.write(`portlb relay: ${why}\n`);
  if (parentIsExabgp()) process.kill(process.ppid, 'SIGTERM');
  process.exit(1);
}

function dial(path: string, attempt = 1): Promise<Socket> {
  return new Promise((resolve) => {
    const socket = connect(path);
    socket.once('connect', () => resolve(socket));
    socket.once('error', (error) => {
      if (attempt >= CONNECT_ATTEMPTS) giveUp(`cannot reach the sidecar at ${path}: ${error.message}`);
      setTimeout(() => resolve(dial(path, attempt + 1)), CONNECT_DELAY_MS);
    });
  });
}

export async function runRelay(path: string | undefined): Promise<void> {
  if (path === undefined) giveUp('usage: bgp-relay SOCKET_PATH');
  const socket = await dial(path);
  socket.on('error', () => {}); // 'close' follows and decides
  socket.on('close', () => giveUp('the sidecar closed the API socket'));
  // exabgp closes our stdin when it stops us: nothing more to carry.
  process.stdin.on('end', () => {
    socket.end();
    process.exit(0);
  });
  process.stdin.pipe(socket, { end: false });
  socket.pipe(process.stdout);
}
