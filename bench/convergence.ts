/**
 * Convergence benchmark (paper Fig. 13b/c, made sub-second): random LB changes in the netns lab,
 * each timed from the event to the upstream router's kernel FIB reflecting it.
 *
 *   npm run bench:convergence -- --events 200 --out bench-results/convergence [--bfd]
 *
 * With --bfd the lab runs BFD (bfdd in every LB pod, BFD on both route reflectors, 300 ms x 3),
 * so a silent node death is seen in under a second instead of a hold time.
 *
 * Needs root and the Debian peers (scripts/setup.sh). Writes DIR/convergence.json and, with
 * matplotlib, DIR/fig13b-lb-count.png and DIR/fig13c-delay-histogram.png.
 */
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config/load.js';
import { waitForBfd } from '../src/lab/bfd.js';
import { labDown, labUp } from '../src/lab/lab.js';
import { nodeIp } from '../src/lab/layout.js';
import { killNamespace } from '../src/lab/procs.js';
import { type BenchSlot, perform, reap, reboot } from './convergence-actions.js';
import { EVENT_KINDS, type EventKind, percentile, pickEvent, seeded } from './convergence-events.js';
import { watchRoutes } from './route-watch.js';
import { type Phases, readPhases } from './sidecar-phases.js';

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '200' },
    out: { type: 'string', default: 'bench-results/convergence' },
    nodes: { type: 'string', default: '4' },
    seed: { type: 'string', default: '1' },
    'hold-time': { type: 'string', default: '3' },
    'gap-ms': { type: 'string', default: '500' },
    prefix: { type: 'string', default: 'plbb-' },
    bfd: { type: 'boolean', default: false },
    'bfd-interval-ms': { type: 'string' },
  },
});

const EVENTS = Number(args.events);
const NODES = Number(args.nodes);
const HOLD = Number(args['hold-time']);
const GAP_MS = Number(args['gap-ms']);
const BFD = args.bfd === true;
const TIMEOUT_MS = (HOLD + 10) * 1000;
const SERVICE = 'web';
const log = (m: string) => process.stderr.write(`bench: ${m}\n`);

interface Measured {
  readonly i: number;
  readonly kind: EventKind;
  readonly lb: string;
  readonly node: string;
  /** ms since the benchmark's first event. */
  readonly at: number;
  /** Event to router FIB, ms; null when the router never got there within the timeout. */
  readonly delayMs: number | null;
  readonly lbsAfter: number;
  readonly nextHopsAfter: readonly string[];
  /** Start and graceful stop: the sidecar's own steps, ms after the event (see sidecar-phases.ts). */
  readonly phases?: Phases;
  /** From the sidecar's announce/withdraw to the router's FIB: the BGP path alone (RR + router). */
  readonly bgpPathMs?: number;
}

function summarize(events: readonly Measured[]) {
  const byKind: Record<string, unknown> = {};
  for (const kind of EVENT_KINDS) {
    const mine = events.filter((e) => e.kind === kind);
    const delays = mine.flatMap((e) => (e.delayMs === null ? [] : [e.delayMs])).sort((a, b) => a - b);
    const path = mine.flatMap((e) => (e.bgpPathMs === undefined ? [] : [e.bgpPathMs])).sort((a, b) => a - b);
    byKind[kind] = {
      count: mine.length,
      timeouts: mine.length - delays.length,
      p50Ms: percentile(delays, 50),
      p99Ms: percentile(delays, 99),
      maxMs: delays.at(-1),
      minMs: delays[0],
      ...(path.length > 0 && {
        sidecarToFib: { p50Ms: percentile(path, 50), p99Ms: percentile(path, 99), maxMs: path.at(-1) },
      }),
    };
  }
  return byKind;
}

function plot(out: string): Promise<string> {
  const script = fileURLToPath(new URL('../../bench/convergence-plot.py', import.meta.url));
  return new Promise((done) => {
    // Debian's matplotlib is importable from the system python, not from a pyenv one first on PATH.
    execFile('/usr/bin/python3', [script, join(out, 'convergence.json'), out], (error, _o, stderr) =>
      done(error ? `plots skipped: ${String(stderr).trim() || error.message}` : 'plots written'),
    );
  });
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('needs root (network namespaces)');
  const out = resolve(args.out);
  await mkdir(out, { recursive: true });
  const parent = await mkdtemp(join(tmpdir(), 'portlb-bench-'));
  await chmod(parent, 0o755); // FRR runs as user frr and reads its config in here
  const dir = join(parent, 'run');
  const random = seeded(Number(args.seed));
  log(`lab up: ${NODES} nodes, hold time ${HOLD} s${BFD ? ', BFD' : ''} (run dir ${dir})`);
  const lab = await labUp({
    dir,
    prefix: args.prefix,
    nodes: NODES,
    lbs: NODES,
    backends: 1,
    holdTime: HOLD,
    bfd: BFD,
    bfdIntervalMs: args['bfd-interval-ms'] === undefined ? undefined : Number(args['bfd-interval-ms']),
    progress: log,
  });
  const stopAll = async () => {
    log('lab down');
    await labDown(dir, log);
    await rm(parent, { recursive: true, force: true });
  };
  process.once('SIGINT', () => void stopAll().then(() => process.exit(130)));
  try {
    // The timers the lab rendered its peers with (bgp.bfd's defaults).
    const bfd = (await loadConfig(join(dir, 'portlb-lab.yaml'), {})).bgp?.bfd;
    if (bfd !== undefined) log(`BFD ${bfd.intervalMs} ms x ${bfd.multiplier}`);
    // Every node gets one LB slot of the service; half start running.
    const slots: BenchSlot[] = lab.store.state.lbs.map((lb) => ({ lb, node: lb.node, running: true }));
    for (const s of slots.slice(Math.ceil(slots.length / 2))) {
      await killNamespace(lab.names.lb(s.lb.id));
      s.running = false;
    }
    const vip = lab.store.state.services[0]?.vip ?? '10.1.1.0/24';
    const watch = await watchRoutes(lab.names.router, vip);
    const expected = () => slots.filter((s) => s.running).map((s) => nodeIp(s.node));
    await watch.until(expected(), 0, 20_000);
    if (bfd !== undefined)
      for (const s of slots.filter((x) => x.running)) await waitForBfd(lab, s.lb, bfd.intervalMs);

    const events: Measured[] = [];
    const lbCount: { t: number; lbs: number }[] = [];
    const began = performance.now();
    lbCount.push({ t: began, lbs: expected().length });
    for (let i = 0; i < EVENTS; i++) {
      const picked = pickEvent(slots, 1, random);
      if (picked === undefined) break;
      const slot = picked.slot as BenchSlot;
      slot.running = picked.kind === 'start';
      const want = expected();
      const t0 = await perform(lab, picked.kind, slot);
      lbCount.push({ t: t0, lbs: want.length });
      const t1 = await watch.until(want, t0, TIMEOUT_MS);
      const delayMs = t1 === undefined ? null : Math.max(0, Math.round((t1 - t0) * 10) / 10);
      const timed = picked.kind === 'start' || picked.kind === 'graceful-stop';
      const phases = timed
        ? await readPhases(join(dir, 'lbs', slot.lb.id, 'sidecar.log'), performance.timeOrigin + t0)
        : undefined;
      const said = picked.kind === 'start' ? phases?.announcedMs : phases?.withdrawnMs;
      const bgpPathMs =
        delayMs !== null && said !== undefined ? Math.max(0, Math.round(delayMs - said)) : undefined;
      events.push({
        i,
        kind: picked.kind,
        lb: slot.lb.id,
        node: `node${slot.node}`,
        at: Math.round(t0 - began),
        delayMs,
        lbsAfter: want.length,
        nextHopsAfter: want,
        ...(phases && { phases }),
        ...(bgpPathMs !== undefined && { bgpPathMs }),
      });
      const path = bgpPathMs === undefined ? '' : ` (sidecar -> FIB ${bgpPathMs} ms)`;
      log(
        `${String(i + 1).padStart(4)}/${EVENTS} ${picked.kind.padEnd(13)} ${slot.lb.id} -> ${want.length} LB(s): ${delayMs === null ? 'TIMEOUT' : `${delayMs} ms`}${path}`,
      );
      if (picked.kind === 'node-death') await reboot(lab, slot);
      // As a node has long before it dies: else a death within BFD's 1-2 s start measures the hold timer.
      if (picked.kind === 'start' && bfd !== undefined && delayMs !== null) {
        await waitForBfd(lab, slot.lb, bfd.intervalMs);
      }
      if (picked.kind === 'graceful-stop' || picked.kind === 'sigkill') await reap(lab, slot.lb);
      await sleep(GAP_MS * (0.5 + random()));
    }
    watch.close();
    const result = {
      command: `npm run bench:convergence -- ${process.argv.slice(2).join(' ')}`.trim(),
      startedAt: new Date(Date.now() - (performance.now() - began)).toISOString(),
      machine: { cpus: cpus().length, loadavgAtEnd: loadavg() },
      lab: {
        nodes: NODES,
        holdTimeSeconds: HOLD,
        service: SERVICE,
        vip,
        routeReflectors: ['gobgp (GoBGP v4)', 'frr'],
        bfd: bfd === undefined ? false : { intervalMs: bfd.intervalMs, multiplier: bfd.multiplier },
      },
      measuredFrom: {
        start: 'spawn of the LB pod (portlb sidecar, which starts exabgp)',
        'graceful-stop': 'SIGTERM to the sidecar',
        sigkill: "SIGKILL to every process in the LB pod's namespace",
        'node-death': "the node's link to the node network set down (nothing is closed)",
      },
      measuredTo: "the router's kernel FIB for the VIP showing the new next-hop set (ip monitor route)",
      summary: summarize(events),
      events,
      series: {
        lbCount: lbCount.map((x) => ({ t: Math.round(x.t - began), lbs: x.lbs })),
        nextHops: watch.history.map((x) => ({ t: Math.round(x.t - began), nextHops: x.nextHops })),
      },
    };
    await writeFile(join(out, 'convergence.json'), `${JSON.stringify(result, null, 2)}\n`);
    log(`wrote ${join(out, 'convergence.json')}`);
    log(await plot(out));
    process.stdout.write(`${JSON.stringify(result.summary, null, 2)}\n`);
  } finally {
    await stopAll();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
