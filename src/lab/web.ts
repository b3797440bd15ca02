import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { run } from '../system/exec.js';
import { startRecorded, waitFor, waitReady } from './daemons.js';
import { BACKEND_PORT, backendIp, backendName, type Names } from './layout.js';
import { isOurs } from './procs.js';
import type { StateStore } from './state.js';

/*
 * The backends: Debian's nginx, as in the paper, one per backend pod. `/` answers with the
 * backend's name and the address the request came from, which is the LB pod's after its source
 * NAT: one request says which LB and which backend served it. `/bytes/SIZE` serves a file of
 * that many bytes (1k, 16k, 64k, 256k) for the throughput runs.
 */

export const webProcessName = (j: number): string => `web:${j}`;
export const BYTES_SIZES: Readonly<Record<string, number>> = {
  '1k': 1024,
  '16k': 16 * 1024,
  '64k': 64 * 1024,
  '256k': 256 * 1024,
};

const webDir = (store: StateStore, j: number) => join(store.dir, 'backends', backendName(j));
/** Shared by every backend (the same content everywhere, as behind a real service). */
const wwwDir = (store: StateStore) => join(store.dir, 'www');

/** The files under /bytes/: written once per lab, readable by nginx's workers (user nobody). */
export async function writeWebContent(store: StateStore): Promise<void> {
  const dir = join(wwwDir(store), 'bytes');
  await mkdir(dir, { recursive: true, mode: 0o755 });
  for (const [name, size] of Object.entries(BYTES_SIZES)) {
    await writeFile(join(dir, name), Buffer.alloc(size, 'x'), { mode: 0o644 });
  }
}

export function nginxConf(store: StateStore, j: number): string {
  const dir = webDir(store, j);
  const name = backendName(j);
  return `# written by portlb lab: backend ${name}
daemon off;
master_process on;
worker_processes 1;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')} warn;
events {
  worker_connections 4096;
}
http {
  access_log off;
  client_body_temp_path ${join(dir, 'tmp', 'body')};
  proxy_temp_path ${join(dir, 'tmp', 'proxy')};
  fastcgi_temp_path ${join(dir, 'tmp', 'fastcgi')};
  uwsgi_temp_path ${join(dir, 'tmp', 'uwsgi')};
  scgi_temp_path ${join(dir, 'tmp', 'scgi')};
  sendfile on;
  # A client that ACKs nothing for 5 s is gone (a connection the router's ECMP moved to another
  # LB, which reset it: this side never hears of it): drop it with a reset, so that a graceful
  # stop is not held until the grace period kills nginx with live answers still in flight.
  send_timeout 5s;
  reset_timedout_connection on;
  keepalive_timeout 60s;
  keepalive_requests 1000000;
  server {
    listen ${backendIp(j)}:${BACKEND_PORT};
    add_header X-Backend ${name} always;
    location = / {
      default_type text/plain;
      return 200 "${name} $remote_addr\\n";
    }
    location /bytes/ {
      root ${wwwDir(store)};
      default_type application/octet-stream;
    }
  }
}
`;
}

/** What `/` answered: the backend's name and the address it saw the request from. */
export function parseAnswer(body: string): { backend: string; from: string } | undefined {
  const m = /^(web\d+) (\S+)\n?$/.exec(body);
  return m ? { backend: m[1] as string, from: m[2] as string } : undefined;
}

const answers = (ns: string, j: number) =>
  run(['curl', '-s', '-m', '1', `http://${backendIp(j)}:${BACKEND_PORT}/`], { ns, timeoutMs: 3000 }).then(
    (body) => parseAnswer(body)?.backend === backendName(j),
    () => false,
  );

/** Starts nginx in backend pod `j` and waits until it answers. */
export async function startWeb(store: StateStore, n: Names, j: number): Promise<void> {
  const dir = webDir(store, j);
  await mkdir(join(dir, 'tmp'), { recursive: true, mode: 0o755 });
  const conf = join(dir, 'nginx.conf');
  await writeFile(conf, nginxConf(store, j));
  const logFile = join(dir, 'nginx.out');
  const proc = await startRecorded(store, {
    name: webProcessName(j),
    ns: n.backend(j),
    // nginx rewrites its title to "nginx: master process /usr/sbin/nginx ... -c CONF": CONF stays.
    match: conf,
    logFile,
    argv: ['/usr/sbin/nginx', '-e', join(dir, 'error.log'), '-c', conf],
  });
  await waitReady(proc, logFile, `nginx of ${backendName(j)}`, () => answers(n.backend(j), j));
}

/**
 * A graceful stop (SIGQUIT): nginx stops accepting, answers what it has, closes idle keep-alive
 * connections and exits once the last request is done, as a backend pod's preStop should make it.
 * Like a pod's grace period, `graceMs` bounds it (a peer gone mid-answer would hold nginx until
 * its send timeout): then SIGKILL. Resolves with whether nginx finished in time.
 */
export async function stopWeb(store: StateStore, j: number, graceMs = 10_000): Promise<boolean> {
  const proc = store.state.processes.find((p) => p.name === webProcessName(j));
  if (proc === undefined || !(await isOurs(proc))) return true;
  const send = (signal: NodeJS.Signals) => {
    try {
      process.kill(proc.pid, signal);
    } catch {
      // exited meanwhile
    }
  };
  send('SIGQUIT');
  const gone = async () => !(await isOurs(proc));
  return waitFor(`nginx of ${backendName(j)} to finish`, gone, graceMs).then(
    () => true,
    () => {
      send('SIGKILL');
      return false;
    },
  );
}

/**
 * Waits until a backend pod's kernel has delivered what nginx left in its sockets: nginx finishes
 * a request when its answer is in the socket buffer, so after it exits, sockets in FIN-WAIT-1,
 * CLOSING or LAST-ACK may still hold the tail of answers on their way to clients. A pod whose
 * network is torn down then (as a pod's is once its last container exits) loses that tail, and
 * the client waits for it until its timeout: a backend's preStop must wait for these too. It
 * stops waiting when nothing has moved for `stuckMs`: what is left then has no client to take it
 * (a connection the router's ECMP moved to another LB, which reset it; this side never hears of
 * it). Resolves with the bytes left unsent (0: all delivered).
 */
export async function drainSockets(
  ns: string,
  { timeoutMs = 10_000, stuckMs = 2000, intervalMs = 50 } = {},
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let last = Number.NaN;
  let movedAt = Date.now();
  for (;;) {
    const listing = await run(
      ['ss', '-Htn', 'state', 'established', 'state', 'fin-wait-1', 'state', 'closing', 'state', 'last-ack'],
      { ns, timeoutMs: 3000 },
    ).catch(() => undefined);
    // An answer ss could not give counts as movement: only a steady count is "stuck".
    const left = listing === undefined ? Number.NaN : unsentBytes(listing);
    if (left === 0) return 0;
    const now = Date.now();
    if (left !== last) {
      last = left;
      movedAt = now;
    }
    if (now - movedAt >= stuckMs || now >= deadline) return left;
    await sleep(intervalMs);
  }
}

/**
 * The bytes still queued to send in `ss -Htn` output (its Send-Q column), summed. A socket that
 * has sent its FIN counts it in Send-Q (the FIN takes a sequence number): that one is not data.
 */
export function unsentBytes(listing: string): number {
  let total = 0;
  for (const line of listing.split('\n')) {
    // [State] Recv-Q Send-Q Local Peer: the state is there only when ss lists several.
    const columns = line.trim().split(/\s+/);
    const queued = Number(columns.filter((c) => /^\d+$/.test(c))[1] ?? 0);
    const finSent = /^(FIN-WAIT-1|CLOSING|LAST-ACK)$/.test(columns[0] ?? '');
    total += finSent ? Math.max(0, queued - 1) : queued;
  }
  return total;
}
