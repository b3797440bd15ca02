/**
 * Real traffic through the lab (paper Fig. 10, 13a, 13b, with requests instead of routes): vegeta
 * in the client namespace -> router (ECMP, L4 hash) -> node (tc rate limit: the LB's NIC) -> LB
 * pod (nftables, source NAT) -> nginx backends, while LBs scale up, stop gracefully and are
 * SIGKILLed and backends come and go; then throughput against the LB count and the backend count,
 * and each LB's share of new flows.
 *
 *   npm run bench:traffic -- --out bench-results/traffic [--rounds 3] [--link-mbit 100]
 *   npm run bench:traffic -- --survival --out DIR [--connections 200] [--interval-ms 100]
 *
 * `--survival` runs instead `traffic-survival.ts`: long-lived connections across LB and backend
 * changes, forwarding `nat` beside `tunnel`, added to DIR/traffic.json.
 *
 * Needs root, the Debian peers and vegeta (scripts/setup.sh). Writes DIR/traffic.json and, with
 * matplotlib, DIR/fig13b-traffic.png, DIR/fig13a-throughput-lbs.png, DIR/fig10-throughput-backends.png.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { addBackend, removeBackend } from '../src/lab/backends.js';
import { serviceAddress } from '../src/lab/curl.js';
import { type Lab, labDown, labUp, scaleService } from '../src/lab/lab.js';
import { shapeLink } from '../src/lab/network.js';
import { failed, type RequestResult, readResults, startAttack, vegetaBinary } from '../src/lab/vegeta.js';
import { BYTES_SIZES, parseAnswer } from '../src/lab/web.js';
import { run } from '../src/system/exec.js';
import { seeded } from './convergence-events.js';
import { watchRoutes } from './route-watch.js';
import { cpuTimes, lbsOf, MARGIN_MS, perform, resetCounter, routeChanges } from './traffic-actions.js';
import {
  byKind,
  errorCounts,
  outsideWindows,
  type Req,
  series,
  sigkillDetail,
  spread,
  type TrafficEvent,
  type TrafficKind,
  throughput,
} from './traffic-analysis.js';
import { survival } from './traffic-survival.js';

const { values: args } = parseArgs({
  options: {
    out: { type: 'string', default: 'bench-results/traffic' },
    rounds: { type: 'string', default: '3' },
    'link-mbit': { type: 'string', default: '100' },
    'backend-mbit': { type: 'string' },
    rate: { type: 'string', default: '100' },
    'bulk-workers': { type: 'string', default: '48' },
    size: { type: 'string', default: '64k' },
    'point-seconds': { type: 'string', default: '8' },
    'gap-ms': { type: 'string', default: '3000' },
    'max-backends': { type: 'string', default: '6' },
    'hold-time': { type: 'string', default: '3' },
    drain: { type: 'string', default: '2' },
    seed: { type: 'string', default: '1' },
    prefix: { type: 'string', default: 'plbt-' },
    'no-confirm': { type: 'boolean', default: false },
    survival: { type: 'boolean', default: false },
    connections: { type: 'string', default: '200' },
    'interval-ms': { type: 'string', default: '100' },
  },
});

const NODES = 4;
const LINK_MBIT = Number(args['link-mbit']);
const BACKEND_MBIT = args['backend-mbit'] === undefined ? LINK_MBIT / 4 : Number(args['backend-mbit']);
const RATE = Number(args.rate);
const BULK_WORKERS = Number(args['bulk-workers']);
const SIZE = args.size;
const POINT_S = Number(args['point-seconds']);
const WARM_S = 2;
const GAP_MS = Number(args['gap-ms']);
const MAX_BACKENDS = Number(args['max-backends']);
const ROUND: readonly TrafficKind[] = [
  'scale-up',
  'backend-add',
  'graceful-stop',
  'backend-remove',
  'sigkill',
  'scale-up',
];
const log = (m: string) => process.stderr.write(`bench: ${m}\n`);

/** The node whose LB pod a backend saw a request from (its pod IP is on that node's pod range). */
function nodeOf(address: string | undefined): string | undefined {
  const m = /^10\.244\.(\d+)\.\d+$/.exec(address ?? '');
  return m ? `node${m[1]}` : undefined;
}

function toReq(r: RequestResult, lbOf: (from: string | undefined) => string | undefined): Req {
  const answer = parseAnswer(r.body);
  return {
    stream: r.attack,
    start: r.start,
    end: r.start + r.latencyMs,
    failed: failed(r),
    ...(failed(r) && { error: r.error || `HTTP ${r.code}` }),
    lb: lbOf(answer?.from),
    backend: answer?.backend,
  };
}

/** A closed-loop run (like wrk): `workers` keep-alive connections, each one request at a time. */
async function point(lab: Lab, dir: string, name: string) {
  const url = `http://${serviceAddress(lab.store.state, 'web')}/bytes/${SIZE}`;
  const changes = routeChanges(lab.names.router, lab.store.state.services[0]?.vip ?? '10.1.1.0/24');
  const c0 = await cpuTimes();
  const sent0 = await backendBytes(lab);
  const t0 = Date.now();
  const attack = await startAttack({
    ns: lab.names.client,
    url,
    name,
    rate: 0,
    workers: BULK_WORKERS * 2,
    keepalive: true,
    connections: BULK_WORKERS * 2,
    durationS: POINT_S,
    timeoutS: 10,
    maxBody: 0,
    dir,
  });
  await attack.done;
  const c1 = await cpuTimes();
  const sent1 = await backendBytes(lab);
  changes.close();
  const seconds = (Date.now() - t0) / 1000;
  const byBackend = Object.fromEntries(
    Object.entries(sent1).map(([name, bytes]) => [
      name,
      Math.round(((bytes - (sent0[name] ?? 0)) * 8) / seconds / 1e5) / 10,
    ]),
  );
  const reqs = (await readResults(attack.resultsFile)).map((r) => toReq(r, () => undefined));
  const rps = throughput(reqs, t0 + WARM_S * 1000, t0 + POINT_S * 1000);
  const bytes = (BYTES_SIZES[SIZE] ?? 0) + 250; // the body and nginx's headers
  return {
    rps: Math.round(rps * 10) / 10,
    mbit: Math.round((rps * bytes * 8) / 1e5) / 10,
    failed: reqs.filter((r) => r.failed).length,
    errors: errorCounts(reqs),
    routerChanges: changes.count(),
    ...(Object.keys(byBackend).length > 0 && { backendMbitSent: byBackend }),
    cpuBusy: Math.round(((c1.busy - c0.busy) / (c1.total - c0.total)) * 100) / 100,
  };
}

/** Bytes each shaped backend has sent (its link's rate-limit class), by name. */
async function backendBytes(lab: Lab): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  if (lab.store.state.backendMbit === undefined) return out;
  for (const j of lab.store.state.backends) {
    const text = await run(['tc', '-s', 'class', 'show', 'dev', 'eth0', 'classid', '1:1'], {
      ns: lab.names.backend(j),
    }).catch(() => '');
    const sent = /Sent (\d+) bytes/.exec(text)?.[1];
    if (sent !== undefined) out[`web${j}`] = Number(sent);
  }
  return out;
}

function plot(out: string): Promise<string> {
  const script = fileURLToPath(new URL('../../bench/traffic-plot.py', import.meta.url));
  return new Promise((done) => {
    execFile('/usr/bin/python3', [script, join(out, 'traffic.json'), out], (error, _o, stderr) =>
      done(error ? `plots skipped: ${String(stderr).trim() || error.message}` : 'plots written'),
    );
  });
}

async function main(): Promise<void> {
  if (args.survival) {
    return survival({
      out: args.out,
      connections: Number(args.connections),
      intervalMs: Number(args['interval-ms']),
      drainSeconds: Number(args.drain),
      seed: Number(args.seed),
      linkMbit: LINK_MBIT,
      loadWorkers: BULK_WORKERS,
      log,
    });
  }
  if (process.getuid?.() !== 0) throw new Error('needs root (network namespaces)');
  if (!existsSync(vegetaBinary())) throw new Error(`${vegetaBinary()} missing: run scripts/build-vegeta.sh`);
  if (BYTES_SIZES[SIZE] === undefined) throw new Error(`--size must be one of ${Object.keys(BYTES_SIZES)}`);
  const out = resolve(args.out);
  await mkdir(out, { recursive: true });
  const parent = await mkdtemp(join(tmpdir(), 'portlb-traffic-'));
  await chmod(parent, 0o755); // FRR (user frr) and nginx's workers (nobody) read files in here
  const dir = join(parent, 'run');
  const random = seeded(Number(args.seed));
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const startLoad = loadavg();
  log(
    `lab up: ${NODES} nodes, 3 LBs, 3 nginx backends, each node's link ${LINK_MBIT} Mbit/s (run dir ${dir})`,
  );
  const lab = await labUp({
    dir,
    prefix: args.prefix,
    nodes: NODES,
    lbs: 3,
    backends: 3,
    holdTime: Number(args['hold-time']),
    drainSeconds: Number(args.drain),
    linkMbit: LINK_MBIT,
    confirmWithdraw: !args['no-confirm'],
    progress: log,
  });
  const watch = await watchRoutes(lab.names.router, lab.store.state.services[0]?.vip ?? '10.1.1.0/24');
  const stopAll = async () => {
    watch.close();
    // The LBs' own logs (sidecar: health, withdraw, confirmation; data plane: rule changes) stay.
    await cp(join(dir, 'lbs'), join(out, 'lb-logs'), {
      recursive: true,
      filter: (src) => !/\/lbs\/[^/]+\/tmp(\/|$)/.test(src),
    }).catch(() => undefined);
    log('lab down');
    await labDown(dir, log);
    await rm(parent, { recursive: true, force: true });
  };
  process.once('SIGINT', () => void stopAll().then(() => process.exit(130)));
  try {
    const resets = await resetCounter(lab.names.client);
    const base = `http://${serviceAddress(lab.store.state, 'web')}`;
    const common = { ns: lab.names.client, timeoutS: 5, dir };

    // Fig. 13b with requests: short requests at a fixed rate (on new and on kept-alive
    // connections) whose every failure counts, beside a closed loop of long ones that fills the links.
    log(`events: ${args.rounds} rounds of ${ROUND.join(', ')}`);
    const streams = [
      await startAttack({
        ...common,
        name: 'new',
        url: `${base}/`,
        rate: RATE,
        keepalive: false,
        maxBody: 64,
      }),
      await startAttack({
        ...common,
        name: 'keepalive',
        url: `${base}/`,
        rate: RATE,
        keepalive: true,
        connections: 16,
        maxBody: 64,
      }),
      await startAttack({
        ...common,
        name: 'bulk',
        url: `${base}/bytes/${SIZE}`,
        rate: 0,
        workers: BULK_WORKERS,
        keepalive: true,
        connections: BULK_WORKERS,
        timeoutS: 10,
        maxBody: 0,
      }),
    ];
    const origin = Date.now();
    const timeline: { t: number; lbs: number; backends: number }[] = [];
    const mark = (at = Date.now()) =>
      timeline.push({
        t: (at - origin) / 1000,
        lbs: lbsOf(lab).length,
        backends: lab.store.state.backends.length,
      });
    mark();
    await sleep(GAP_MS);
    const events: TrafficEvent[] = [];
    for (let round = 0; round < Number(args.rounds); round++) {
      for (const kind of ROUND) {
        const event = await perform(lab, { kind, pick }, watch, resets);
        events.push(event);
        mark(event.t1);
        const fib =
          event.fibAt === undefined ? '' : `, router left it after ${Math.round(event.fibAt - event.t0)} ms`;
        log(
          `${kind.padEnd(14)} ${event.target.padEnd(6)} ${Math.round(event.t1 - event.t0)} ms${fib}, ${event.resets} resets -> ${lbsOf(lab).length} LBs, ${lab.store.state.backends.length} backends`,
        );
        await sleep(GAP_MS * (0.75 + random() / 2));
      }
    }
    for (const s of streams) await s.stop();
    const results = (await Promise.all(streams.map((s) => readResults(s.resultsFile)))).flat();
    const reqs = results.map((r) => toReq(r, nodeOf));
    const short = reqs.filter((r) => r.stream !== 'bulk');
    log(`events done: ${reqs.length} requests, ${reqs.filter((r) => r.failed).length} failed`);

    // Fig. 13a: throughput against the LB count, 4 backends, the LB's link the bottleneck.
    if (lab.store.state.backends.length < 4) await addBackend(lab, () => {});
    const byLbCount: Record<string, unknown> = {};
    for (let k = 1; k <= NODES; k++) {
      await scaleService(lab, 'web', k, () => {});
      await sleep(1000);
      byLbCount[k] = await point(lab, dir, `lbs-${k}`);
      log(`throughput with ${k} LB(s): ${JSON.stringify(byLbCount[k])}`);
    }

    // Each LB's share of new flows with 4 LBs (fib_multipath_hash_policy=1: the L4 hash).
    const spreadChanges = routeChanges(lab.names.router, lab.store.state.services[0]?.vip ?? '10.1.1.0/24');
    const flows = await startAttack({
      ...common,
      name: 'spread',
      url: `${base}/`,
      rate: 200,
      keepalive: false,
      durationS: 15,
      maxBody: 64,
    });
    await flows.done;
    spreadChanges.close();
    const podToLb = new Map(lbsOf(lab).map((l) => [l.podIp, l.id]));
    const spreadReqs = (await readResults(flows.resultsFile)).map((r) =>
      toReq(r, (from) => (from === undefined ? undefined : podToLb.get(from))),
    );
    const spreadResult = {
      ...spread(
        spreadReqs,
        lbsOf(lab).map((l) => l.id),
      ),
      failed: spreadReqs.filter((r) => r.failed).length,
      routerChanges: spreadChanges.count(),
    };
    log(`spread over 4 LBs: ${JSON.stringify(spreadResult)}`);

    // Fig. 10: throughput against the backend count, one LB; each backend's link limited too
    // (a web server's capacity), so the backends are the bottleneck until the LB's link is.
    await scaleService(lab, 'web', 1, () => {});
    while (lab.store.state.backends.length > 1) {
      await removeBackend(lab, `web${lab.store.state.backends.at(-1)}`, () => {});
    }
    await lab.store.update((s) => {
      s.backendMbit = BACKEND_MBIT;
    });
    for (const j of lab.store.state.backends) await shapeLink(lab.names.backend(j), BACKEND_MBIT);
    const byBackendCount: Record<string, unknown> = {};
    for (let b = 1; b <= MAX_BACKENDS; b++) {
      if (b > 1) await addBackend(lab, () => {});
      await sleep(1000);
      byBackendCount[b] = await point(lab, dir, `backends-${b}`);
      log(`throughput with ${b} backend(s): ${JSON.stringify(byBackendCount[b])}`);
    }

    const rps = (o: Record<string, unknown>) =>
      Object.fromEntries(Object.entries(o).map(([k, v]) => [k, (v as { rps: number }).rps]));
    const result = {
      command: `npm run bench:traffic -- ${process.argv.slice(2).join(' ')}`.trim(),
      startedAt: new Date(origin).toISOString(),
      machine: { cpus: cpus().length, loadavgAtStart: startLoad, loadavgAtEnd: loadavg() },
      setup: {
        nodes: NODES,
        linkLimit: `tc htb ${LINK_MBIT} Mbit/s, 50 ms of queue, on each node's link (the paper's per-LB 1 Gbps NIC, scaled); packets under 512 bytes first`,
        linkMbit: LINK_MBIT,
        backendMbitForFig10: BACKEND_MBIT,
        dataPlane: 'nftables, nat forwarding (DNAT + masquerade), jhash over the ordered backends',
        router: 'FRR bgpd + zebra, maximum-paths ibgp 16, fib_multipath_hash_policy=1',
        backends: 'Debian nginx 1.22',
        loadGenerator: 'vegeta v12.13.0 (per-request results), in the client namespace',
        drainSeconds: Number(args.drain),
        withdrawConfirmation: args['no-confirm']
          ? 'off (exabgp ack only)'
          : "the router's FIB (bgp.shutdown.confirm)",
        streams: {
          new: `GET / at ${RATE}/s, a new connection each`,
          keepalive: `GET / at ${RATE}/s over at most 16 kept-alive connections`,
          bulk: `GET /bytes/${SIZE}, ${BULK_WORKERS} workers in a closed loop on kept-alive connections`,
        },
        windows: `each change from its start to its completion + ${MARGIN_MS} ms; a request counts when it was in flight or started in it`,
        throughputPoints: `${POINT_S} s closed loop, ${BULK_WORKERS * 2} kept-alive connections, GET /bytes/${SIZE}, the first ${WARM_S} s left out`,
      },
      byKind: byKind(events, reqs),
      byKindShortRequests: byKind(events, short),
      sigkill: sigkillDetail(events, reqs),
      outsideWindows: outsideWindows(events, reqs),
      spread: spreadResult,
      throughput: {
        byLbCount: rps(byLbCount),
        byBackendCount: rps(byBackendCount),
        points: { byLbCount, byBackendCount },
      },
      events: events.map((e) => ({
        ...e,
        t0: (e.t0 - origin) / 1000,
        t1: (e.t1 - origin) / 1000,
        windowEnd: (e.windowEnd - origin) / 1000,
        ...(e.fibAt !== undefined && { fibAt: (e.fibAt - origin) / 1000 }),
      })),
      series: {
        timeline,
        short: series(short, origin, 1000),
        bulk: series(
          reqs.filter((r) => r.stream === 'bulk'),
          origin,
          1000,
        ),
      },
    };
    await writeFile(join(out, 'traffic.json'), `${JSON.stringify(result, null, 2)}\n`);
    log(`wrote ${join(out, 'traffic.json')}`);
    log(await plot(out));
    const { byKind: kinds, sigkill, spread: sp, throughput: tp } = result;
    process.stdout.write(
      `${JSON.stringify({ byKind: kinds, sigkill, spread: sp, throughput: { byLbCount: tp.byLbCount, byBackendCount: tp.byBackendCount } }, null, 2)}\n`,
    );
    await resets.remove();
  } finally {
    await stopAll();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
