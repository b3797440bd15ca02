import { join } from 'node:path';
import { type Config, parseConfig } from '../config/load.js';
import { ConfigError } from '../errors.js';
import { run } from '../system/exec.js';
import { shippedCli } from '../system/shipped.js';
import { DATAPLANE_PORT, lbConfigInput, lbEnv, render, writeConfig } from './config.js';
import { frrDir, peerDir, startBfdd, startRecorded, waitFor } from './daemons.js';
import { faultBin } from './faults.js';
import { containerArgv, IMAGE_UID, labImages, podmanEnv } from './images.js';
import { type Names, podIp } from './layout.js';
import { addLbNs, deleteLbNs, removeLbRoute, setLbLink } from './network.js';
import { isOurs, isOursOrStarting, killNamespace, pidsIn } from './procs.js';
import type { LabLb, LabState, StateStore } from './state.js';

export const lbProcessName = (id: string): string => `lb:${id}`;
export const dataPlaneProcessName = (id: string): string => `dp:${id}`;
const bfddProcessName = (id: string): string => `bfdd:${id}`;
const bfddDir = (store: StateStore, id: string): string => join(store.dir, 'lbs', id, 'bfdd');

function vipOf(state: LabState, lb: LabLb): string {
  const vip = state.services.find((s) => s.name === lb.service)?.vip;
  if (vip === undefined) throw new ConfigError(`LB ${lb.id}: unknown service ${lb.service}`);
  return vip;
}

/** Creates the LB pod's namespace and its sidecar config (not its processes): a pod scheduled on `node`. */
export async function createLb(
  store: StateStore,
  n: Names,
  service: string,
  id: string,
  node: number,
): Promise<LabLb> {
  const used = store.state.lbs.filter((l) => l.node === node).map((l) => l.slot);
  let slot = 1;
  while (used.includes(slot)) slot++;
  const dir = await peerDir(join(store.dir, 'lbs', id));
  const lb: LabLb = {
    id,
    service,
    node,
    slot,
    podIp: podIp(node, slot),
    configFile: join(dir, 'portlb.yaml'),
  };
  await store.update((s) => {
    s.lbs.push(lb);
  });
  await addLbNs(store, n, { ...lb, vip: vipOf(store.state, lb) });
  const config = await writeLbConfig(store, lb);
  // bfdd, a container beside exabgp: `portlb render bfdd` from the LB's own config and identity.
  if (store.state.bfd) await frrDir(bfddDir(store, id), { bfdd: render('bfdd', config) });
  return lb;
}

/** Writes the LB's config from the lab's state (its backends, its service) and parses it back. */
export async function writeLbConfig(store: StateStore, lb: LabLb): Promise<Config> {
  const input = lbConfigInput(store.dir, store.state, lb);
  await writeConfig(lb.configFile, input);
  // Refuse a config the sidecar would refuse, before anything runs.
  return parseConfig(input, lbEnv(lb), lb.configFile);
}

const lbDir = (store: StateStore, lb: LabLb) => join(store.dir, 'lbs', lb.id);

/**
 * How one container of the LB pod starts: the shipped bundle with its V8 flags (as the image runs
 * it), or, with `lab up --images`, the image itself under podman (src/lab/images.ts). The image's
 * containers see the LB's run directory at the same path, so the config names the same files.
 */
function podContainer(
  store: StateStore,
  n: Names,
  lb: LabLb,
  role: 'sidecar' | 'dataplane',
  env: Record<string, string>,
): { argv: string[]; env: NodeJS.ProcessEnv; joinsItself?: boolean } {
  const args = [role, '--config', lb.configFile];
  if (!store.state.images) {
    const cli = shippedCli(import.meta.url);
    return { argv: [process.execPath, ...cli.flags, cli.script, ...args], env: { ...process.env, ...env } };
  }
  const images = labImages();
  const key = store.state.md5KeyFile;
  return {
    argv: containerArgv({
      lab: store.state.prefix,
      name: `${store.state.prefix}${lb.id}-${role}`,
      ns: n.lb(lb.id),
      // The sidecar's image carries exabgp; the data plane's nft; only the data plane writes rules.
      image: role === 'sidecar' ? images.exabgp : images.portlb,
      uid: role === 'dataplane' ? 0 : IMAGE_UID,
      capabilities: role === 'dataplane' ? ['NET_ADMIN'] : [],
      mounts: [
        `${lbDir(store, lb)}:${lbDir(store, lb)}${role === 'sidecar' ? '' : ':ro'}`,
        ...(role === 'sidecar' && key !== undefined ? [`${key}:${key}:ro`] : []),
      ],
      env,
      args,
    }),
    env: podmanEnv(shippedCli(import.meta.url).script),
    joinsItself: true,
  };
}

/**
 * The LB pod's data-plane container: `portlb dataplane`, which writes the nftables rules from
 * the config's backends. With the lab's `nft-fails` fault its PATH finds an nft that refuses
 * every transaction (src/lab/faults.ts).
 */
export async function startDataPlane(store: StateStore, n: Names, lb: LabLb): Promise<void> {
  const faulty = store.state.dataPlaneFaults?.includes(lb.id) === true;
  await startRecorded(store, {
    name: dataPlaneProcessName(lb.id),
    ns: n.lb(lb.id),
    match: `dataplane --config ${lb.configFile}`,
    logFile: join(lbDir(store, lb), 'dataplane.log'),
    ...podContainer(store, n, lb, 'dataplane', {
      ...lbEnv(lb),
      ...(faulty && { PATH: `${faultBin(store)}:${process.env.PATH}` }),
    }),
  });
}

/**
 * The lab's stand-in for an EndpointSlice change reaching the data plane: the LB's config gets
 * the lab's current backends and its data plane starts again on it. The old rules serve until
 * the new process replaces them in one transaction (or adopts them when they are already right).
 */
export async function restartDataPlane(store: StateStore, n: Names, lb: LabLb): Promise<void> {
  await writeLbConfig(store, lb);
  const proc = store.state.processes.find((p) => p.name === dataPlaneProcessName(lb.id));
  if (proc !== undefined && (await isOurs(proc))) {
    signal(proc.pid, 'SIGTERM');
    await waitFor(`data plane of ${lb.id} to exit`, async () => !(await isOurs(proc)), 10_000);
  }
  await startDataPlane(store, n, lb);
}

/** The data plane's /readyz, parsed; undefined while it does not answer. */
export async function dataPlaneReadyz(n: Names, lb: LabLb): Promise<unknown> {
  try {
    const body = await run(['curl', '-s', '-m', '1', `http://${lb.podIp}:${DATAPLANE_PORT}/readyz`], {
      ns: n.lb(lb.id),
      timeoutMs: 3000,
    });
    return JSON.parse(body) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * Starts the LB pod's processes (the container start the benchmark times from): its data plane,
 * and `portlb sidecar` in bgp mode, which writes exabgp's config, runs exabgp and announces once
 * its probe through the VIP (so through the data plane) reaches a backend.
 */
export async function startLb(store: StateStore, n: Names, lb: LabLb): Promise<void> {
  await setLbLink(n, lb, true); // after a crash of the pod (crashLb), its sandbox is new
  await startDataPlane(store, n, lb);
  // The sidecar's temporary files (exabgp's config, its API socket) stay inside the run
  // directory: a killed sidecar cannot remove them, `lab down` does.
  const tmp = await peerDir(
    join(store.dir, 'lbs', lb.id, 'tmp'),
    store.state.images ? `${IMAGE_UID}` : undefined,
  );
  await startRecorded(store, {
    name: lbProcessName(lb.id),
    ns: n.lb(lb.id),
    match: lb.configFile,
    logFile: join(store.dir, 'lbs', lb.id, 'sidecar.log'),
    ...podContainer(store, n, lb, 'sidecar', { ...lbEnv(lb), TMPDIR: tmp }),
  });
  if (store.state.bfd) await startBfdd(store, bfddProcessName(lb.id), n.lb(lb.id), bfddDir(store, lb.id));
}

export async function lbRunning(store: StateStore, lb: LabLb): Promise<boolean> {
  const proc = store.state.processes.find((p) => p.name === lbProcessName(lb.id));
  return proc !== undefined && (await isOursOrStarting(proc));
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // exited between the check and the signal
  }
}

/**
 * Graceful stop, as the kubelet does it: SIGTERM to every container at once. The sidecar
 * withdraws, waits until the router has left this node, drains and exits; the data plane exits
 * at once and leaves its rules, which serve until the pod is gone. Then the rest is reaped and
 * the pod's network goes (its sandbox), as when its last container has exited.
 * Resolves with when the sidecar exited (Date.now), undefined when it was not running.
 */
export async function stopLb(
  store: StateStore,
  n: Names,
  lb: LabLb,
  timeoutMs = 30_000,
): Promise<number | undefined> {
  const mine = (name: string) => store.state.processes.find((p) => p.name === name);
  const sidecar = mine(lbProcessName(lb.id));
  const running = sidecar !== undefined && (await isOurs(sidecar));
  for (const proc of [sidecar, mine(dataPlaneProcessName(lb.id))]) {
    if (proc !== undefined && (await isOurs(proc))) signal(proc.pid, 'SIGTERM');
  }
  let exited: number | undefined;
  if (running) {
    await waitFor(`LB ${lb.id} to exit`, async () => !(await isOurs(sidecar)), timeoutMs, 20).then(
      () => {
        exited = Date.now();
      },
      () => undefined,
    );
  }
  if ((await pidsIn(n.lb(lb.id))).length > 0) await killNamespace(n.lb(lb.id));
  // The pod is gone with its last container: its rules forward nothing from now on.
  await setLbLink(n, lb, false);
  return exited;
}

/** A crash of the LB's containers: SIGKILL to every process in the LB pod (its rules stay in its namespace). */
export async function killLb(n: Names, lb: LabLb): Promise<number> {
  return killNamespace(n.lb(lb.id), 'SIGKILL');
}

/**
 * The whole pod gone at once (a force-deleted pod, an evicted one): every process SIGKILLed, then
 * its network down, so the rules it leaves forward nothing.
 */
export async function crashLb(n: Names, lb: LabLb): Promise<void> {
  await killLb(n, lb);
  await setLbLink(n, lb, false);
}

/** Removes the pod: stop, unroute, delete its namespace, forget it. */
export async function deleteLb(store: StateStore, n: Names, lb: LabLb): Promise<void> {
  await stopLb(store, n, lb);
  await removeLbRoute(n, { ...lb, vip: vipOf(store.state, lb) });
  await deleteLbNs(n, lb);
  await store.update((s) => {
    s.lbs = s.lbs.filter((l) => l.id !== lb.id);
    s.processes = s.processes.filter(
      (p) =>
        p.name !== lbProcessName(lb.id) &&
        p.name !== dataPlaneProcessName(lb.id) &&
        p.name !== bfddProcessName(lb.id),
    );
    s.namespaces = s.namespaces.filter((x) => x !== n.lb(lb.id));
  });
}
