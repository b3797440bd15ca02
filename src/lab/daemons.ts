import { access, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { PermanentError, TransientError } from '../errors.js';
import { run, spawnDaemon } from '../system/exec.js';
import { gobgpArgv, gobgpdArgv } from './gobgp.js';
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
    /**
     * Started from this namespace although it runs in `ns`: podman, which joins the namespace by
     * itself (`--network ns:`) and needs the host's /sys, which `ip netns exec` remounts.
     */
    joinsItself?: boolean;
  },
): Promise<LabProcess> {
  const pid = spawnDaemon({
    ns: proc.joinsItself ? undefined : proc.ns,
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
export async function waitReady(
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

/** Starts one FRR daemon and waits for its vty socket: its config is read by then. */
async function startFrrDaemon(
  store: StateStore,
  d: { name: string; ns: string; dir: string; daemon: string; extra: readonly string[] },
): Promise<void> {
  const logFile = join(d.dir, `${d.daemon}.out`);
  const proc = await startRecorded(store, {
    name: d.name,
    ns: d.ns,
    match: d.daemon,
    logFile,
    argv: frrArgv(d.daemon, d.dir, d.extra),
  });
  const vty = join(d.dir, `${d.daemon}.vty`);
  await waitReady(proc, logFile, `${d.daemon} of ${d.name}`, () => exists(vty));
}

/** zebra, whose API socket the other daemons must find at start (bgpd never retries it otherwise). */
async function startZebra(store: StateStore, name: string, ns: string, dir: string): Promise<string> {
  const { zserv } = frrPaths(dir);
  const logFile = join(dir, 'zebra.out');
  const zebra = await startRecorded(store, {
    name,
    ns,
    match: 'zebra',
    logFile,
    argv: frrArgv('zebra', dir, ['-z', zserv]),
  });
  await waitReady(zebra, logFile, `zebra of ${name}`, () => exists(zserv));
  return zserv;
}

/** Writes the daemons' configs into a directory FRR (user frr) owns. */
export async function frrDir(dir: string, configs: Record<string, string>): Promise<void> {
  await peerDir(dir);
  // Owner-only: a route reflector's config carries the TCP-MD5 key in clear.
  for (const [daemon, text] of Object.entries(configs)) {
    await writeFile(join(dir, `${daemon}.conf`), text, { mode: 0o600 });
  }
  await peerDir(dir, 'frr:frr');
}

/** FRR zebra + bgpd (the upstream router), in the foreground so the pids we hold are theirs. */
export async function startFrrRouter(
  store: StateStore,
  ns: string,
  dir: string,
  bgpdConf: string,
): Promise<void> {
  await frrDir(dir, { zebra: 'hostname router\n', bgpd: bgpdConf });
  const zserv = await startZebra(store, 'router-zebra', ns, dir);
  await startFrrDaemon(store, { name: 'router-bgpd', ns, dir, daemon: 'bgpd', extra: ['-z', zserv] });
}

/**
 * FRR bgpd as a route reflector: alone (-Z: no zebra), or with BFD beside zebra and bfdd, since
 * bgpd reaches bfdd only through zebra; -n keeps the reflected routes out of the RR's kernel.
 */
export async function startFrrRr(
  store: StateStore,
  rr: { name: string; ns: string; dir: string; conf: string; bfd: boolean },
): Promise<void> {
  const { name, ns, dir } = rr;
  if (!rr.bfd) {
    await frrDir(dir, { bgpd: rr.conf });
    await startFrrDaemon(store, { name, ns, dir, daemon: 'bgpd', extra: ['-Z'] });
    return;
  }
  await frrDir(dir, { zebra: `hostname ${name}\n`, bfdd: `hostname ${name}\n`, bgpd: rr.conf });
  const zserv = await startZebra(store, `${name}-zebra`, ns, dir);
  await startFrrDaemon(store, { name: `${name}-bfdd`, ns, dir, daemon: 'bfdd', extra: ['-z', zserv] });
  await startFrrDaemon(store, { name, ns, dir, daemon: 'bgpd', extra: ['-n', '-z', zserv] });
}

/**
 * FRR bfdd alone, beside an LB's exabgp, from DIR/bfdd.conf: its sessions need no zebra. Its zebra
 * socket points into its own directory, where none listens, so it never talks to another FRR's.
 */
export function startBfdd(store: StateStore, name: string, ns: string, dir: string): Promise<void> {
  return startFrrDaemon(store, { name, ns, dir, daemon: 'bfdd', extra: ['-z', frrPaths(dir).zserv] });
}

export async function startGobgpRr(store: StateStore, name: string, ns: string, dir: string, toml: string) {
  await peerDir(dir);
  const file = join(dir, 'gobgpd.toml');
  await writeFile(file, toml, { mode: 0o600 });
  const gobgpd = await startRecorded(store, {
    name,
    ns,
    match: 'gobgpd',
    logFile: join(dir, 'gobgpd.log'),
    argv: gobgpdArgv(file),
  });
  const answers = () =>
    gobgp(ns, ['global']).then(
      () => true,
      () => false,
    );
  await waitReady(gobgpd, join(dir, 'gobgpd.log'), `gobgpd API on ${name}`, answers, 100);
}

export function gobgp(ns: string, args: readonly string[]): Promise<string> {
  return run(gobgpArgv(args), { ns, timeoutMs: 5000 });
}

export function vtysh(ns: string, dir: string, command: string): Promise<string> {
  return run(['vtysh', '--vty_socket', dir, '-c', command], { ns, timeoutMs: 5000 });
}
