import { randomBytes } from 'node:crypto';
import { chown, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import { shippedCli } from '../system/shipped.js';
import { CONFIRM_SCRIPT, confirmScript } from './config.js';
import { waitFor } from './daemons.js';
import { routerNextHops } from './fib.js';
import { assertImages, IMAGE_UID, labImages, podmanEnv, removeLabContainers } from './images.js';
import {
  lbId,
  MAX_BACKENDS,
  MAX_NODES,
  type Names,
  names,
  nodeIp,
  ROUTE_REFLECTORS,
  serviceVip,
} from './layout.js';
import { crashLb, createLb, deleteLb, killLb, lbRunning, startLb, stopLb } from './lb.js';
import { addBackendNs, addNodeNs, buildCore, deleteNamespace, setNodeLink, shapeLink } from './network.js';
import { killRr, reviveRr, startPeers } from './peers.js';
import { killNamespace, stopProcesses } from './procs.js';
import { frrSessions } from './sessions.js';
import { type LabLb, type LabState, openStore, readState, type StateStore } from './state.js';
import { startWeb, writeWebContent } from './web.js';

export type Progress = (message: string) => void;

export const MD5_KEY_FILE = 'bgp-md5.key';

export interface UpOptions {
  readonly dir: string;
  readonly prefix: string;
  readonly nodes: number;
  readonly backends: number;
  /** LBs of the first service, `web` on 10.1.1.0/24. */
  readonly lbs: number;
  readonly holdTime: number;
  /** Every LB's drain.seconds (default 2). */
  readonly drainSeconds?: number | undefined;
  /** false: no withdraw confirmation from the router (to measure what it is worth). */
  readonly confirmWithdraw?: boolean | undefined;
  /** A tc rate limit on each node's link, Mbit/s (the paper's per-LB NIC); none when absent. */
  readonly linkMbit?: number | undefined;
  /** TCP-MD5 on every LB session: a key the lab makes, in DIR/bgp-md5.key. */
  readonly md5?: boolean;
  /** BFD: bfdd in every LB pod, BFD on both route reflectors' LB peer group. */
  readonly bfd?: boolean;
  /** Its interval; bgp.bfd's default (300 ms) when absent. */
  readonly bfdIntervalMs?: number | undefined;
  /** The LB pods' sidecar and data plane from the images scripts/build-images.sh builds. */
  readonly images?: boolean | undefined;
  readonly progress: Progress;
}

export interface Lab {
  readonly store: StateStore;
  readonly names: Names;
}

export async function openLab(dir: string): Promise<Lab> {
  const state = await readState(dir);
  if (state === undefined) throw new ConfigError(`no lab recorded in ${dir}; run portlb lab up`);
  return { store: await openStore(dir, state), names: names(state.prefix) };
}

/** FRR runs as user frr: every directory above the run directory must let others through. */
async function checkReachable(dir: string): Promise<void> {
  for (let d = resolve(dir); d !== dirname(d); d = dirname(d)) {
    const mode = await stat(d).then(
      (st) => st.mode,
      () => undefined,
    );
    if (mode !== undefined && (mode & 0o001) === 0) {
      throw new ConfigError(
        `${d} is closed to other users (FRR runs as frr): chmod o+x ${d}, or use another --dir`,
      );
    }
  }
}

/** Builds the paper's topology; on any failure removes everything it made, then rethrows. */
export async function labUp(o: UpOptions): Promise<Lab> {
  // `down` deletes only what it recorded, and a plb prefix keeps even that recognisable.
  if (!/^plb[a-z0-9]{0,8}-$/.test(o.prefix)) throw new ConfigError('--prefix must look like plb-, plbx-');
  if (o.nodes < 1 || o.nodes > MAX_NODES) throw new ConfigError(`--nodes must be 1..${MAX_NODES}`);
  if (o.backends < 1 || o.backends > MAX_BACKENDS)
    throw new ConfigError(`--backends must be 1..${MAX_BACKENDS}`);
  if (o.lbs < 0 || o.lbs > o.nodes)
    throw new ConfigError('--lbs must be 0..nodes (one LB of a service per node)');
  if ((await readState(o.dir)) !== undefined) {
    throw new ConfigError(`a lab is already recorded in ${o.dir}; run portlb lab down first`);
  }
  await checkReachable(o.dir);
  if (o.images === true) await assertImages(labImages(), podmanEnv(shippedCli(import.meta.url).script));
  const initial: LabState = {
    version: 1,
    prefix: o.prefix,
    startedAt: new Date().toISOString(),
    phase: 'starting',
    nodes: o.nodes,
    backends: [],
    holdTime: o.holdTime,
    ...(o.drainSeconds !== undefined && { drainSeconds: o.drainSeconds }),
    // In an image the sidecar cannot ask the router's namespace (the lab's confirm script does).
    ...((o.confirmWithdraw === false || o.images === true) && { confirmWithdraw: false }),
    ...(o.images === true && { images: true }),
    ...(o.linkMbit !== undefined && { linkMbit: o.linkMbit }),
    namespaces: [],
    processes: [],
    services: [],
    lbs: [],
    deadNodes: [],
    ...(o.md5 === true && { md5KeyFile: join(o.dir, MD5_KEY_FILE) }),
    ...(o.bfd === true && { bfd: { intervalMs: o.bfdIntervalMs } }),
  };
  const lab: Lab = { store: await openStore(o.dir, initial), names: names(o.prefix) };
  const n = lab.names;
  try {
    if (initial.md5KeyFile !== undefined) {
      // Printable, no spaces (FRR takes it as one word), well under the kernel's 80 bytes.
      await writeFile(initial.md5KeyFile, `${randomBytes(18).toString('base64url')}\n`, { mode: 0o600 });
      // Owner-only still, but the owner is the containers' user (as a Secret's fsGroup makes it).
      if (o.images === true) await chown(initial.md5KeyFile, IMAGE_UID, IMAGE_UID);
    }
    await writeFile(join(o.dir, CONFIRM_SCRIPT), confirmScript(n.router), { mode: 0o755 });
    o.progress(`namespaces: switch, router, client, 2 route reflectors (prefix ${o.prefix})`);
    await buildCore(lab.store, n);
    o.progress(`${o.backends} backend web pods (nginx)`);
    await writeWebContent(lab.store);
    for (let j = 1; j <= o.backends; j++) {
      await addBackendNs(lab.store, n, j);
      await startWeb(lab.store, n, j);
      await lab.store.update((s) => {
        s.backends.push(j);
      });
    }
    o.progress(
      `${o.nodes} nodes${o.linkMbit === undefined ? '' : `, each link limited to ${o.linkMbit} Mbit/s`}`,
    );
    for (let i = 1; i <= o.nodes; i++) {
      await addNodeNs(lab.store, n, i);
      if (o.linkMbit !== undefined) await shapeLink(n.node(i), o.linkMbit);
    }
    await startPeers(lab.store, n, o.progress);
    await scaleService(lab, 'web', o.lbs, o.progress);
    // The first route can arrive through one reflector while the other is still settling (FRR
    // resets its session to the router once when it applies add-paths): `up` means steady.
    o.progress('waiting until both route reflectors carry every path');
    await waitForReflectors(lab);
    await waitForRouter(lab, 'web');
    await lab.store.update((s) => {
      s.phase = 'up';
    });
    return lab;
  } catch (error) {
    o.progress(`failed: ${error instanceof Error ? error.message : String(error)}; cleaning up`);
    await lab.store.update((s) => {
      s.phase = 'failed';
    });
    await labDown(o.dir, o.progress);
    throw error;
  }
}

/** Stops every recorded process (by pid), then everything left in recorded namespaces, then deletes them. */
export async function labDown(dir: string, progress: Progress): Promise<boolean> {
  const state = await readState(dir);
  if (state === undefined) return false;
  progress(`stopping ${state.processes.length} processes`);
  await stopProcesses(state.processes, 3000);
  if (state.images) {
    const removed = await removeLabContainers(state.prefix, podmanEnv(shippedCli(import.meta.url).script));
    progress(`removed ${removed} containers`);
  }
  progress(`deleting ${state.namespaces.length} namespaces`);
  for (const ns of state.namespaces) {
    await killNamespace(ns);
    await deleteNamespace(ns);
  }
  await rm(dir, { recursive: true, force: true });
  return true;
}

function lbsOf(lab: Lab, service: string): LabLb[] {
  return lab.store.state.lbs.filter((l) => l.service === service);
}

/** The node a new LB of `service` goes to: a live node without one (anti-affinity), fewest LBs first. */
function placeLb(state: LabState, service: string): number {
  let best: number | undefined;
  let bestLoad = Number.POSITIVE_INFINITY;
  for (let i = 1; i <= state.nodes; i++) {
    if (state.deadNodes.includes(i)) continue;
    if (state.lbs.some((l) => l.node === i && l.service === service)) continue;
    const load = state.lbs.filter((l) => l.node === i).length;
    if (load < bestLoad) {
      best = i;
      bestLoad = load;
    }
  }
  if (best === undefined) throw new ConfigError(`every live node already hosts an LB of ${service}`);
  return best;
}

/** The next hops the router should show for a service: the nodes of its running LBs. */
export async function expectedNextHops(lab: Lab, service: string): Promise<string[]> {
  const hops = new Set<string>();
  for (const lb of lbsOf(lab, service)) {
    if (lab.store.state.deadNodes.includes(lb.node)) continue;
    if (await lbRunning(lab.store, lb)) hops.add(nodeIp(lb.node));
  }
  return [...hops].sort();
}

export async function waitForRouter(lab: Lab, service: string, timeoutMs = 20_000): Promise<void> {
  const vip = lab.store.state.services.find((s) => s.name === service)?.vip;
  if (vip === undefined) return;
  const want = (await expectedNextHops(lab, service)).join(',');
  await waitFor(
    `the router to route ${vip} via [${want}]`,
    async () => (await routerNextHops(lab.names.router, vip)).join(',') === want,
    timeoutMs,
    50,
  );
}

/**
 * Waits until the router has every running LB's path from every live route reflector, so that
 * either reflector alone carries them all (an RR just started, or FRR's first update, lags).
 */
export async function waitForReflectors(lab: Lab, timeoutMs = 20_000): Promise<void> {
  let paths = 0;
  for (const svc of lab.store.state.services) {
    for (const lb of lbsOf(lab, svc.name)) {
      if (!lab.store.state.deadNodes.includes(lb.node) && (await lbRunning(lab.store, lb))) paths++;
    }
  }
  const dir = join(lab.store.dir, 'router');
  await waitFor(
    `${paths} paths from each route reflector on the router`,
    async () => {
      const sessions = await frrSessions('router', lab.names.router, dir).catch(() => []);
      return ROUTE_REFLECTORS.every(
        (rr) => sessions.find((x) => x.peer === rr.address)?.prefixesReceived === paths,
      );
    },
    timeoutMs,
    100,
  );
}

/** Makes `count` LBs of `service` exist and run; a new service gets the next VIP range. */
export async function scaleService(
  lab: Lab,
  service: string,
  count: number,
  progress: Progress,
): Promise<void> {
  const { store, names: n } = lab;
  if (!store.state.services.some((s) => s.name === service)) {
    const vip = serviceVip(store.state.services.length + 1);
    await store.update((s) => {
      s.services.push({ name: service, vip });
    });
  }
  let lbs = lbsOf(lab, service);
  while (lbs.length > count) {
    const last = lbs[lbs.length - 1] as LabLb;
    progress(`stopping LB ${last.id} on node${last.node}`);
    await deleteLb(store, n, last);
    lbs = lbsOf(lab, service);
  }
  for (let k = 1; lbs.length < count; k++) {
    const id = lbId(service, k);
    if (lbs.some((l) => l.id === id)) continue;
    const node = placeLb(store.state, service);
    progress(`starting LB ${id} on node${node}`);
    await createLb(store, n, service, id, node);
    lbs = lbsOf(lab, service);
  }
  for (const lb of lbs) if (!(await lbRunning(store, lb))) await startLb(store, n, lb);
  progress(`waiting for the router's ECMP route for ${service}`);
  await waitForRouter(lab, service);
}

export type KillHow = 'term' | 'kill' | 'pod' | 'link-down';

/**
 * Fails one LB (graceful SIGTERM; SIGKILL of its processes, whose rules then still forward; or
 * `pod`, the whole pod at once: processes and network) or one node (its link goes down, silently).
 */
export async function kill(lab: Lab, target: string, how: KillHow): Promise<string> {
  const { store, names: n } = lab;
  const rr = ROUTE_REFLECTORS.find((r) => r.name === target);
  if (rr !== undefined) {
    await killRr(n, rr);
    return `${rr.name}: killed (SIGKILL)`;
  }
  if (how === 'link-down') {
    const i = Number(/^node(\d+)$/.exec(target)?.[1]);
    if (!Number.isInteger(i) || i < 1 || i > store.state.nodes) throw new ConfigError(`no node ${target}`);
    await setNodeLink(n, i, false);
    await store.update((s) => {
      if (!s.deadNodes.includes(i)) s.deadNodes.push(i);
    });
    return `node${i}: link down`;
  }
  const lb = store.state.lbs.find((l) => l.id === target);
  if (lb === undefined) throw new ConfigError(`no LB ${target}; see portlb lab status`);
  if (how === 'term') await stopLb(store, n, lb);
  else if (how === 'pod') await crashLb(n, lb);
  else await killLb(n, lb);
  const what = {
    term: 'stopped (SIGTERM)',
    kill: 'killed (SIGKILL)',
    pod: 'pod gone (SIGKILL, network down)',
  };
  return `${lb.id}: ${what[how]}`;
}

/** Brings a route reflector back (`rr-gobgp`, `rr-frr`) or a dead node (`nodeN`). */
export async function reviveTarget(lab: Lab, target: string): Promise<void> {
  const rr = ROUTE_REFLECTORS.find((r) => r.name === target);
  if (rr !== undefined) return reviveRr(lab.store, lab.names, rr);
  const i = Number(/^node(\d+)$/.exec(target)?.[1]);
  if (!Number.isInteger(i) || i < 1 || i > lab.store.state.nodes)
    throw new ConfigError(`no node or RR ${target}`);
  return revive(lab, i);
}

/** Brings a dead node back: the LBs on it are gone (as after a reboot); `scale` starts them again. */
export async function revive(lab: Lab, node: number): Promise<void> {
  for (const lb of lab.store.state.lbs.filter((l) => l.node === node)) await killLb(lab.names, lb);
  await setNodeLink(lab.names, node, true);
  await lab.store.update((s) => {
    s.deadNodes = s.deadNodes.filter((d) => d !== node);
  });
}
