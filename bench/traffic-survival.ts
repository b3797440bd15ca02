/**
 * `npm run bench:traffic -- --survival --out DIR` (root; run it under the shared lock): do
 * long-lived keep-alive connections survive LB and backend changes, `nat` against `tunnel`, in
 * one run? For each forwarding, one after the other: a client, a router, 3 LBs with portlb's
 * data plane, 3 backends (`traffic-survival-net.ts`); 200 connections, each sending a request
 * every ~100 ms, through LB scale-up (a next hop added: the router's hash-threshold multipath
 * moves flows between LBs), a graceful LB stop (its next hop withdrawn, the drain time, then the
 * LB gone), one backend added and one removed; then throughput with each LB's link limited.
 * DIR/traffic.json gains `survival.<nat|tunnel>.<event>.{connections, broken}` and
 * `backendChange`; DIR/survival-broken.png plots broken connections per event, nat beside tunnel.
 *
 * Not the lab: the router's route is changed directly rather than through exabgp and the route
 * reflectors (their timing is `bench:convergence`'s); what the route change does to the flows is
 * the kernel's own.
 */
import { type ChildProcess, execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { flowBucket } from '../src/core/jhash.js';
import { backendAt, DEFAULT_TABLE_SIZE } from '../src/core/maglev.js';
import { checkBackends, type PlaneBackend } from '../src/dataplane/model.js';
import { backendChange, maglevTableOf } from '../src/dataplane/tunnel.js';
import { run } from '../src/system/exec.js';
import {
  backendIp,
  benchFile,
  CLIENT,
  createSurvivalNet,
  type Forwarding,
  NODE,
  VIP,
  VIP_RANGE,
} from './traffic-survival-net.js';

type EventKind = 'scale-up' | 'graceful-stop' | 'backend-add' | 'backend-remove';

export interface SurvivalOptions {
  readonly out: string;
  readonly connections: number;
  readonly intervalMs: number;
  readonly drainSeconds: number;
  readonly seed: number;
  /** Each LB's link limit for the throughput point. */
  readonly linkMbit: number;
  readonly loadWorkers: number;
  readonly log: (message: string) => void;
}

/** After a change is complete, its window stays open this long: a break shows within a second. */
const MARGIN_MS = 3000;
const GAP_MS = 3000;
const LOAD_SECONDS = 8;

interface Broken {
  readonly id: number;
  readonly at: number;
  readonly reason: string;
  /** The backend that had answered it until then. */
  readonly backend?: string;
}

/** The client's connections (`traffic-survival-client.mjs`): what broke when, and refills. */
function watchConnections(child: ChildProcess) {
  const broken: Broken[] = [];
  let summary: Record<string, number> | undefined;
  let refilled: ((open: number) => void) | undefined;
  createInterface({ input: child.stdout! }).on('line', (line) => {
    if (!line.startsWith('{')) return;
    const value = JSON.parse(line) as Record<string, unknown>;
    if ('at' in value) broken.push(value as unknown as Broken);
    else if ('refilled' in value) refilled?.(value.open as number);
    else summary = value as Record<string, number>;
  });
  return {
    broken,
    /** Replaces the broken connections with new ones; resolves with how many are open. */
    refill: () =>
      new Promise<number>((done) => {
        refilled = done;
        child.stdin?.write('refill\n');
      }),
    async stop(): Promise<Record<string, number> | undefined> {
      child.stdin?.write('stop\n');
      await new Promise((done) => child.once('exit', done));
      return summary;
    },
  };
}

interface SurvivalEvent {
  readonly kind: EventKind;
  readonly target: string;
  readonly t0: number;
  readonly t1: number;
  readonly connections: number;
  readonly broken: number;
  readonly reasons: Record<string, number>;
  /** Which backend the broken connections were on. */
  readonly byBackend: Record<string, number>;
}

/** One forwarding's run: the network, the connections, the four changes, what broke in each. */
async function runMode(forwarding: Forwarding, options: SurvivalOptions) {
  const log = (m: string) => options.log(`${forwarding}: ${m}`);
  const net = await createSurvivalNet(forwarding, options);
  try {
    log(`up: ${net.serving().length} LBs, ${net.backends().length} backends`);
    const args = [VIP, '80', String(options.connections), String(options.intervalMs)];
    const client = await net.spawn(net.client, [NODE, benchFile('traffic-survival-client.mjs'), ...args]);
    const connections = watchConnections(client);
    await sleep(GAP_MS);
    if (connections.broken.length > 0)
      throw new Error(`${connections.broken.length} connections broke before any change`);

    const events: SurvivalEvent[] = [];
    const perform = async (kind: EventKind, target: string, change: () => Promise<void>) => {
      const open = await connections.refill();
      const t0 = Date.now();
      await change();
      const t1 = Date.now();
      await sleep(MARGIN_MS);
      const inWindow = connections.broken.filter((b) => b.at >= t0 && b.at <= t1 + MARGIN_MS);
      const reasons: Record<string, number> = {};
      const byBackend: Record<string, number> = {};
      for (const b of inWindow) {
        reasons[b.reason] = (reasons[b.reason] ?? 0) + 1;
        byBackend[b.backend ?? 'none yet'] = (byBackend[b.backend ?? 'none yet'] ?? 0) + 1;
      }
      events.push({ kind, target, t0, t1, connections: open, broken: inWindow.length, reasons, byBackend });
      log(`${kind} ${target}: ${inWindow.length} of ${open} connections broken (${t1 - t0} ms)`);
      await sleep(GAP_MS);
    };

    await perform('scale-up', 'lb4', () => net.scaleUp(4));
    const stopped = net.serving()[options.seed % net.serving().length]!;
    await perform('graceful-stop', `lb${stopped.i}`, () => net.gracefulStop(stopped));
    const before = [...net.backends()];
    await net.addBackendNs(4);
    await perform('backend-add', 'be4', () => net.setBackends([...before, 4]));
    const gone = before[options.seed % before.length]!;
    await perform('backend-remove', `be${gone}`, async () => {
      await net.setBackends(net.backends().filter((j) => j !== gone));
      await net.endDrain();
    });
    const summary = await connections.stop();
    const outside = connections.broken.filter(
      (b) => !events.some((e) => b.at >= e.t0 && b.at <= e.t1 + MARGIN_MS),
    ).length;

    // Throughput at the same link limit: nat's answers cross the LB's link, tunnel's go from the
    // backend to the router.
    await net.shapeLbLinks(options.linkMbit);
    const loadArgs = [VIP, '80', String(options.loadWorkers), String(LOAD_SECONDS)];
    const load = JSON.parse(
      await run([NODE, benchFile('traffic-survival-load.mjs'), ...loadArgs], {
        ns: net.client,
        timeoutMs: (LOAD_SECONDS + 20) * 1000,
      }),
    ) as { requests: number; failed: number; mbit: number };
    const lbs = net.serving().length;
    log(`throughput over ${lbs} LBs at ${options.linkMbit} Mbit/s each: ${JSON.stringify(load)}`);
    return { events, summary, outside, before, after: [...before, 4], throughput: { lbs, ...load } };
  } finally {
    await net.down();
  }
}

/** The ordered list the LBs hash over, as the data plane checks it. */
function ordered(ids: readonly number[]): PlaneBackend[] {
  const check = checkBackends(
    { vip: VIP_RANGE },
    ids.map((j) => ({ address: backendIp(j), port: 8080 })),
  );
  if (!check.ok) throw new Error(check.problems.join('; '));
  return check.backends;
}

/**
 * The share of new flows whose backend changes on one backend add: `tunnel`'s Maglev table (all
 * buckets), and over one sample of client flows both it and `nat`'s `jhash mod N` over the list.
 */
function changeOfMapping(beforeIds: readonly number[], afterIds: readonly number[], seed: number) {
  const model = { seed, tableSize: DEFAULT_TABLE_SIZE };
  const [b, a] = [ordered(beforeIds), ordered(afterIds)];
  const tables = [maglevTableOf({ backends: b }, model), maglevTableOf({ backends: a }, model)] as const;
  const SAMPLE = 20_000;
  let natMoved = 0;
  let tunnelMoved = 0;
  for (let port = 20_000; port < 20_000 + SAMPLE; port++) {
    const flow = { saddr: CLIENT, sport: port, daddr: VIP, dport: 80 };
    if (b[flowBucket(flow, b.length, seed)]?.address !== a[flowBucket(flow, a.length, seed)]?.address)
      natMoved++;
    const bucket = flowBucket(flow, model.tableSize, seed);
    if (backendAt(tables[0], bucket) !== backendAt(tables[1], bucket)) tunnelMoved++;
  }
  const share = (n: number) => Math.round((n / SAMPLE) * 1e4) / 1e4;
  return {
    ...backendChange(b, a, model),
    sampledFlows: { flows: SAMPLE, tunnel: share(tunnelMoved), nat: share(natMoved) },
  };
}

function plot(out: string): Promise<string> {
  return new Promise((done) => {
    execFile(
      '/usr/bin/python3',
      [benchFile('traffic-survival-plot.py'), join(out, 'traffic.json'), out],
      (error, _o, stderr) =>
        done(error ? `plot skipped: ${String(stderr).trim() || error.message}` : 'plot written'),
    );
  });
}

/** Runs both forwardings, one after the other, and merges the result into DIR/traffic.json. */
export async function survival(options: SurvivalOptions): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('needs root (network namespaces)');
  const out = resolve(options.out);
  await mkdir(out, { recursive: true });
  const startedAt = new Date().toISOString();
  const runs = { nat: await runMode('nat', options), tunnel: await runMode('tunnel', options) };
  const survivalResult = Object.fromEntries(
    Object.entries(runs).map(([mode, r]) => [
      mode,
      {
        ...Object.fromEntries(
          r.events.map((e) => [e.kind, { connections: e.connections, broken: e.broken }]),
        ),
        brokenOutsideEvents: r.outside,
        client: r.summary,
        throughput: r.throughput,
      },
    ]),
  );
  const file = join(out, 'traffic.json');
  const existing = await readFile(file, 'utf8').then(
    (text) => JSON.parse(text) as Record<string, unknown>,
    () => ({}),
  );
  const { connections, intervalMs, drainSeconds, linkMbit, loadWorkers } = options;
  const result = {
    ...existing,
    survivalRun: {
      command: `npm run bench:traffic -- ${process.argv.slice(2).join(' ')}`.trim(),
      startedAt,
      setup: {
        connections: `${connections} HTTP/1.1 keep-alive connections from one client, one GET each every ${intervalMs} ms; broken = reset, closed, unanswered for 1 s, or answered by another backend; before each change the broken ones are replaced, so each change starts with ${connections} open`,
        network:
          'client -> router (kernel multipath route over the LBs, fib_multipath_hash_policy=1) -> 3 LBs (portlb data plane, nftables) -> 3 backends on one switch, a node HTTP server each',
        nat: 'DNAT + masquerade, the VIP local on each LB; answers back through the LB',
        tunnel: `Maglev table (${DEFAULT_TABLE_SIZE} entries), per-LB flow maps, VXLAN to the backend (portlb backend-setup), answers from the backend to the router`,
        events: `scale-up: a 4th LB and its next hop; graceful-stop: one next hop withdrawn, ${drainSeconds} s drain, LB gone; backend-add: a 4th backend; backend-remove: one backend, its flows cut after the ${drainSeconds} s drain`,
        windows: `each change from its start to its completion + ${MARGIN_MS} ms`,
        throughput: `after the changes: each LB's link limited to ${linkMbit} Mbit/s (tc tbf, both ends), ${loadWorkers} keep-alive connections in a closed loop of GET /bytes (64 KiB) for ${LOAD_SECONDS} s, the first left out`,
      },
      events: Object.fromEntries(Object.entries(runs).map(([mode, r]) => [mode, r.events])),
    },
    survival: survivalResult,
    backendChange: changeOfMapping(runs.tunnel.before, runs.tunnel.after, options.seed),
  };
  await writeFile(file, `${JSON.stringify(result, null, 2)}\n`);
  options.log(`wrote ${file}`);
  options.log(await plot(out));
  process.stdout.write(
    `${JSON.stringify({ survival: result.survival, backendChange: result.backendChange }, null, 2)}\n`,
  );
}
