import { access, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { PermanentError, TransientError } from '../errors.js';
import { run, spawnDaemon } from '../system/exec.js';
import { BACKEND_PORT, GOBGP_API_PORT } from './layout.js';
import { isRunning } from './procs.js';
import type { LabProcess, StateStore } from './state.js';

const FRR = '/usr/lib/frr';

/** Starts a daemon and records its pid at once, so `down` can stop it whatever happens next. */
export async function startRecorded(
  store: StateStore,
  proc: {
    name: string;
    ns: string;
    argv: readonly string[];
    match: string;
    logFile: string;
    env?: NodeJS.ProcessEnv;
  },
): Promise<LabProcess> {
  const pid = spawnDaemon({
    ns: proc.ns,
    argv: proc.argv,
    logFile: proc.logFile,
    ...(proc.env && { env: proc.env }),
  });
  const recorded: LabProcess = { name: proc.name, pid, ns: proc.ns, match: proc.match };
  await store.update((s) => {
    s.processes = [...s.processes.filter((p) => p.name !== proc.name), recorded];
  });
  return recorded;
}

export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
  intervalMs = 50,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(intervalMs);
  }
  throw new TransientError(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** The last lines of a log, for an error that says why a daemon would not start. */
async function tail(file: string, lines = 5): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.trim().split('\n').slice(-lines).join(' | ') || '(no output)';
}

/** Waits until `ready`, failing at once (with its log) if the daemon exits instead. */
async function waitReady(
  proc: LabProcess,
  logFile: string,
  what: string,
  ready: () => Promise<boolean>,
  intervalMs = 50,
): Promise<void> {
  await waitFor(
    what,
    async () => {
      if (await ready()) return true;
      if (await isRunning(proc.pid)) return false;
      throw new PermanentError(`${what}: the daemon exited at start: ${await tail(logFile)}`);
    },
    15_000,
    intervalMs,
  );
}

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

/** A directory FRR (running as user frr) and exabgp (user exabgp) can read. */
export async function peerDir(dir: string, owner?: string): Promise<string> {
  await mkdir(dir, { recursive: true, mode: 0o755 });
  if (owner !== undefined) await run(['chown', '-R', owner, dir]);
  return dir;
}

/** vty sockets and the zebra API socket are per instance: several FRRs share this machine. */
export function frrPaths(dir: string) {
  return { vty: dir, zserv: join(dir, 'zserv.api') };
}

/** An FRR daemon's argv: its own config, pid file, log and vty socket directory, run as user frr. */
function frrArgv(daemon: string, dir: string, extra: readonly string[]): string[] {
  return [
    `${FRR}/${daemon}`,
    ...extra,
    '-u',
    'frr',
    '-g',
    'frr',
    '--vty_socket',
    dir,
    '-f',
    join(dir, `${daemon}.conf`),
    '-i',
    join(dir, `${daemon}.pid`),
    '--log',
    `file:${join(dir, `${daemon}.log`)}`,
  ];
}

/** FRR zebra + bgpd (the upstream router), in the foreground so the pid we hold is theirs. */
export async function startFrrRouter(
  store: StateStore,
  ns: string,
  dir: string,
  bgpdConf: string,
): Promise<void> {
  await peerDir(dir);
  await writeFile(join(dir, 'zebra.conf'), 'hostname router\n');
  await writeFile(join(dir, 'bgpd.conf'), bgpdConf);
  await peerDir(dir, 'frr:frr');
  const paths = frrPaths(dir);
  const zebra = await startRecorded(store, {
    name: 'router-zebra',
    ns,
    match: 'zebra',
    logFile: join(dir, 'zebra.out'),
    argv: frrArgv('zebra', dir, ['-z', paths.zserv]),
  });
  // bgpd must find zebra's socket at start, or it never installs routes into the kernel.
  await waitReady(zebra, join(dir, 'zebra.out'), 'zebra on the router', () => exists(paths.zserv));
  const bgpd = await startRecorded(store, {
    name: 'router-bgpd',
    ns,
    match: 'bgpd',
    logFile: join(dir, 'bgpd.out'),
    argv: frrArgv('bgpd', dir, ['-z', paths.zserv]),
  });
  await waitReady(bgpd, join(dir, 'bgpd.out'), 'bgpd on the router', () => exists(join(dir, 'bgpd.vty')));
}

/** FRR bgpd alone (-Z: no zebra), as a route reflector. */
export async function startFrrRr(store: StateStore, name: string, ns: string, dir: string, conf: string) {
  await peerDir(dir);
  await writeFile(join(dir, 'bgpd.conf'), conf);
  await peerDir(dir, 'frr:frr');
  const bgpd = await startRecorded(store, {
    name,
    ns,
    match: 'bgpd',
    logFile: join(dir, 'bgpd.out'),
    argv: frrArgv('bgpd', dir, ['-Z']),
  });
  await waitReady(bgpd, join(dir, 'bgpd.out'), `bgpd on ${name}`, () => exists(join(dir, 'bgpd.vty')));
}

export async function startGobgpRr(store: StateStore, name: string, ns: string, dir: string, toml: string) {
  await peerDir(dir);
  const file = join(dir, 'gobgpd.toml');
  await writeFile(file, toml);
  const gobgpd = await startRecorded(store, {
    name,
    ns,
    match: 'gobgpd',
    logFile: join(dir, 'gobgpd.log'),
    argv: [
      'gobgpd',
      '-f',
      file,
      '-t',
      'toml',
      '--api-hosts',
      `127.0.0.1:${GOBGP_API_PORT}`,
      '--pprof-disable',
    ],
  });
  const answers = () =>
    gobgp(ns, ['global']).then(
      () => true,
      () => false,
    );
  await waitReady(gobgpd, join(dir, 'gobgpd.log'), `gobgpd API on ${name}`, answers, 100);
}

export function gobgp(ns: string, args: readonly string[]): Promise<string> {
  return run(['gobgp', '-u', '127.0.0.1', '-p', String(GOBGP_API_PORT), ...args], { ns, timeoutMs: 5000 });
}

export function vtysh(ns: string, dir: string, command: string): Promise<string> {
  return run(['vtysh', '--vty_socket', dir, '-c', command], { ns, timeoutMs: 5000 });
}

/** A backend web pod: answers every request with its own name (so traffic tests see who served). */
export async function startWeb(store: StateStore, name: string, ns: string, dir: string): Promise<void> {
  const script = `require('node:http').createServer((q,s)=>s.end(process.argv[1]+'\\n')).listen(${BACKEND_PORT})`;
  await startRecorded(store, {
    name,
    ns,
    match: 'portlb-lab-web',
    logFile: join(dir, `${name}.log`),
    argv: [process.execPath, '--title=portlb-lab-web', '-e', script, name],
  });
}
