import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { stringify } from 'yaml';

/*
 * A one-namespace BGP bench for the sidecar: gobgpd as the route reflector, the sidecar with its
 * exabgp, and a TCP backend, all on the loopback of a network namespace the test creates (so
 * ports 179 and 50051 collide with nothing). Everything is stopped by PID and the namespace
 * deleted in `down`, even after a failure.
 */

const exec = promisify(execFile);
const REPO = fileURLToPath(new URL('../../', import.meta.url));
export const NODE = process.execPath;

export const RR = '10.77.0.1';
export const LB = '10.77.0.2';
export const BACKEND = '10.77.0.3';
/** A second LB speaker's address, for tests that need two. */
export const LB2 = '10.77.0.4';
export const VIP = '10.1.1.0/24';

/** Builds the CLI once into a private directory inside node_modules/.cache, so it still resolves packages. */
export async function buildCli(): Promise<string> {
  const out = join(REPO, 'node_modules/.cache/portlb-bgp-it');
  await rm(out, { recursive: true, force: true });
  // Other engineers' work in progress may not typecheck; tsc still emits, and main.js is what counts.
  await exec(join(REPO, 'node_modules/.bin/tsc'), ['-p', join(REPO, 'tsconfig.json'), '--outDir', out], {
    cwd: REPO,
  }).catch(() => {});
  return join(out, 'src/cli/main.js');
}

export function sidecarConfig(overrides: Record<string, unknown> = {}) {
  return {
    mode: 'bgp',
    owner: 'it',
    allowedVipPools: ['10.1.0.0/16'],
    clusterNetworks: { nodes: ['10.77.0.0/24'] },
    services: [
      {
        name: 'web',
        vip: VIP,
        ports: [{ port: 80 }],
        backends: { static: [{ address: BACKEND, port: 8080 }] },
      },
    ],
    bgp: {
      localAs: 65000,
      holdTime: 9,
      peers: [{ address: RR, as: 65000 }],
      communities: ['65000:100'],
      topology: { router: { address: '10.77.0.9' } },
    },
    health: { intervalSeconds: 0.2, timeoutSeconds: 0.2, rise: 1, fall: 1 },
    drain: { seconds: 2 },
    server: { listen: `${LB}:9402` },
    reconcile: { resyncSeconds: 5, debounceMs: 50 },
    log: { level: 'debug' },
    ...overrides,
  };
}

export async function createBench(name: string) {
  const ns = `plbt-${name}-${process.pid}`;
  const dir = await mkdtemp(join(tmpdir(), `portlb-${name}-`));
  const children: ChildProcess[] = [];
  const inNs = (args: string[]) => ['netns', 'exec', ns, ...args];

  function start(args: string[], log: string, env: Record<string, string> = {}) {
    const envArgs = Object.entries(env).map(([k, v]) => `${k}=${v}`);
    const child = spawn('ip', inNs(['env', ...envArgs, ...args]), { stdio: ['ignore', 'pipe', 'pipe'] });
    const file = createWriteStream(join(dir, log), { flags: 'a' });
    child.stdout?.pipe(file);
    child.stderr?.pipe(file);
    children.push(child);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    return { child, exited };
  }

  return {
    ns,
    dir,
    async up(): Promise<void> {
      await exec('ip', ['netns', 'add', ns]);
      await exec('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
      for (const address of [RR, LB, BACKEND, LB2])
        await exec('ip', ['-n', ns, 'addr', 'add', `${address}/32`, 'dev', 'lo']);
      await mkdir(join(dir, 'rr'), { recursive: true });
    },
    start,
    async startGobgp(toml: string) {
      const file = join(dir, 'rr', 'gobgpd.toml');
      await writeFile(file, toml);
      return start(
        ['gobgpd', '-f', file, '-t', 'toml', '--api-hosts', '127.0.0.1:50051', '--pprof-disable'],
        'gobgpd.log',
      );
    },
    /** FRR bgpd as the route reflector, in the foreground so that its PID is the child's. */
    async startFrrRr(conf: string) {
      const file = join(dir, 'rr', 'bgpd.conf');
      await writeFile(file, conf);
      const pid = join(dir, 'rr', 'bgpd.pid');
      return start(
        ['/usr/lib/frr/bgpd', '-Z', '-S', '-f', file, '-i', pid, '--vty_socket', join(dir, 'rr')],
        'bgpd.log',
      );
    },
    /** The next hops FRR's route reflector holds for a prefix. */
    async frrNextHops(prefix: string): Promise<string[]> {
      const { stdout } = await exec('vtysh', ['--vty_socket', join(dir, 'rr'), '-c', 'show ip bgp json']);
      const table = JSON.parse(stdout || '{}') as {
        routes?: Record<string, { nexthops?: { ip?: string }[] }[]>;
      };
      return (table.routes?.[prefix] ?? []).flatMap((path) => (path.nexthops ?? []).map((n) => n.ip ?? ''));
    },
    startBackend() {
      const script = `require('net').createServer((s) => s.end()).listen(8080, '${BACKEND}')`;
      return start([NODE, '-e', script], 'backend.log');
    },
    async startSidecar(cli: string, config: unknown, tag = 'sidecar', hostIp = LB) {
      const file = join(dir, `${tag}.yaml`);
      await writeFile(file, stringify(config));
      // TMPDIR: exabgp's run directory lands in the bench, so `down` removes it even after a SIGKILL.
      return start([NODE, cli, 'sidecar', '--config', file], `${tag}.log`, { HOST_IP: hostIp, TMPDIR: dir });
    },
    /** The paths gobgpd holds for a prefix: next hop and communities (as gobgp's uint32s). */
    async paths(prefix: string): Promise<{ nextHop: string; communities: number[] }[]> {
      const { stdout } = await exec(
        'ip',
        inNs(['gobgp', '-u', '127.0.0.1', '-p', '50051', 'global', 'rib', '-j']),
      );
      type Attr = { type: number; nexthop?: string; communities?: number[] };
      const rib = JSON.parse(stdout || '{}') as Record<string, { attrs?: Attr[] }[]>;
      return (rib[prefix] ?? []).map((path) => ({
        nextHop: path.attrs?.find((a) => a.type === 3)?.nexthop ?? '',
        communities: path.attrs?.find((a) => a.type === 8)?.communities ?? [],
      }));
    },
    /** The next hops gobgpd holds for a prefix. */
    async nextHops(prefix: string): Promise<string[]> {
      return (await this.paths(prefix)).map((p) => p.nextHop);
    },
    async http(path: string, listen = `${LB}:9402`): Promise<{ status: number; body: string }> {
      const { stdout } = await exec(
        'ip',
        inNs(['curl', '-s', '-o', '-', '-w', '\n%{http_code}', `http://${listen}${path}`]),
      );
      const at = stdout.lastIndexOf('\n');
      return { status: Number(stdout.slice(at + 1)), body: stdout.slice(0, at) };
    },
    async logEvents(tag = 'sidecar'): Promise<Record<string, unknown>[]> {
      const text = await readFile(join(dir, `${tag}.log`), 'utf8').catch(() => '');
      return text.split('\n').flatMap((line) => {
        try {
          return [JSON.parse(line) as Record<string, unknown>];
        } catch {
          return [];
        }
      });
    },
    /** PIDs of processes running in the namespace, e.g. the sidecar's exabgp. */
    async pids(): Promise<number[]> {
      const { stdout } = await exec('ip', ['netns', 'pids', ns]).catch(() => ({ stdout: '' }));
      return stdout.split('\n').filter(Boolean).map(Number);
    },
    async down(): Promise<void> {
      for (const child of children) if (child.exitCode === null && child.pid) child.kill('SIGKILL');
      const { stdout } = await exec('ip', ['netns', 'pids', ns]).catch(() => ({ stdout: '' }));
      for (const pid of stdout.split('\n').filter(Boolean).map(Number)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      await exec('ip', ['netns', 'del', ns]).catch(() => {});
      if (process.env.KEEP_BENCH !== '1') await rm(dir, { recursive: true, force: true });
    },
  };
}

export async function until<T>(
  what: string,
  probe: () => Promise<T>,
  ok: (v: T) => boolean,
  ms = 15_000,
): Promise<T> {
  const end = Date.now() + ms;
  let last: T | undefined;
  for (;;) {
    last = await probe();
    if (ok(last)) return last;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The command line of a PID, to find exabgp among the namespace's processes. */
export async function cmdline(pid: number): Promise<string> {
  return (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).replaceAll('\0', ' ');
}
