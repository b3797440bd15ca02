import { join } from 'node:path';
import { parseConfig } from '../config/load.js';
import { ConfigError } from '../errors.js';
import { shippedCli } from '../system/shipped.js';
import { lbConfigInput, lbEnv, render, writeConfig } from './config.js';
import { frrDir, peerDir, startBfdd, startRecorded, waitFor } from './daemons.js';
import { type Names, podIp } from './layout.js';
import { addLbNs, deleteNamespace, removeLbRoute } from './network.js';
import { isOurs, killNamespace, pidsIn } from './procs.js';
import type { LabLb, LabState, StateStore } from './state.js';

export const lbProcessName = (id: string): string => `lb:${id}`;
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
  const input = lbConfigInput(store.state, lb);
  await writeConfig(lb.configFile, input);
  // Refuse a config the sidecar would refuse, before anything runs.
  const config = parseConfig(input, lbEnv(lb), lb.configFile);
  // bfdd, a container beside exabgp: `portlb render bfdd` from the LB's own config and identity.
  if (store.state.bfd) await frrDir(bfddDir(store, id), { bfdd: render('bfdd', config) });
  return lb;
}

/**
 * Starts the LB pod's processes (the container start the benchmark times from): `portlb sidecar`
 * in bgp mode, which writes exabgp's config, runs exabgp and announces once the backends answer.
 */
export async function startLb(store: StateStore, n: Names, lb: LabLb): Promise<void> {
  const cli = shippedCli(import.meta.url);
  await startRecorded(store, {
    name: lbProcessName(lb.id),
    ns: n.lb(lb.id),
    match: lb.configFile,
    logFile: join(store.dir, 'lbs', lb.id, 'sidecar.log'),
    // The sidecar's temporary files (exabgp's config, its API socket) stay inside the run
    // directory: a killed sidecar cannot remove them, `lab down` does.
    env: { ...process.env, ...lbEnv(lb), TMPDIR: await peerDir(join(store.dir, 'lbs', lb.id, 'tmp')) },
    // The shipped bundle with its V8 flags, as the image runs it.
    argv: [process.execPath, ...cli.flags, cli.script, 'sidecar', '--config', lb.configFile],
  });
  if (store.state.bfd) await startBfdd(store, bfddProcessName(lb.id), n.lb(lb.id), bfddDir(store, lb.id));
}

export async function lbRunning(store: StateStore, lb: LabLb): Promise<boolean> {
  const proc = store.state.processes.find((p) => p.name === lbProcessName(lb.id));
  return proc !== undefined && (await isOurs(proc));
}

/** Graceful stop: SIGTERM to the LB's main process (it withdraws, drains, exits), then reap the rest. */
export async function stopLb(store: StateStore, n: Names, lb: LabLb, timeoutMs = 15_000): Promise<void> {
  const proc = store.state.processes.find((p) => p.name === lbProcessName(lb.id));
  if (proc !== undefined && (await isOurs(proc))) {
    try {
      process.kill(proc.pid, 'SIGTERM');
    } catch {
      // exited between the check and the signal
    }
    await waitFor(`LB ${lb.id} to exit`, async () => !(await isOurs(proc)), timeoutMs).catch(() => undefined);
  }
  if ((await pidsIn(n.lb(lb.id))).length > 0) await killNamespace(n.lb(lb.id));
}

/** A crash: SIGKILL to every process in the LB pod. */
export async function killLb(n: Names, lb: LabLb): Promise<number> {
  return killNamespace(n.lb(lb.id), 'SIGKILL');
}

/** Removes the pod: stop, unroute, delete its namespace, forget it. */
export async function deleteLb(store: StateStore, n: Names, lb: LabLb): Promise<void> {
  await stopLb(store, n, lb);
  await removeLbRoute(n, { ...lb, vip: vipOf(store.state, lb) });
  await deleteNamespace(n.lb(lb.id));
  await store.update((s) => {
    s.lbs = s.lbs.filter((l) => l.id !== lb.id);
    s.processes = s.processes.filter(
      (p) => p.name !== lbProcessName(lb.id) && p.name !== bfddProcessName(lb.id),
    );
    s.namespaces = s.namespaces.filter((x) => x !== n.lb(lb.id));
  });
}
