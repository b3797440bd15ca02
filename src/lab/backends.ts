import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { waitFor } from './daemons.js';
import type { Lab, Progress } from './lab.js';
import { backendName, MAX_BACKENDS } from './layout.js';
import { dataPlaneReadyz, lbRunning, restartDataPlane, writeLbConfig } from './lb.js';
import { addBackendNs, deleteBackendNs, shapeLink } from './network.js';
import { killNamespace } from './procs.js';
import type { LabLb } from './state.js';
import { drainSockets, startWeb, stopWeb, webProcessName } from './web.js';

/*
 * Backends come and go as pods behind a Service do: a new one serves before any LB sends it a
 * flow; one that leaves first leaves every LB's rules, then finishes what it has and stops.
 */

/** What the lab reads from `portlb dataplane`'s /readyz: the rules its last sync left. */
const readyzSchema = z.object({
  detail: z.object({
    dataPlane: z.object({
      writers: z.record(
        z.string(),
        z.object({ outcome: z.string().optional(), lastError: z.string().optional() }),
      ),
      services: z.record(z.string(), z.object({ ready: z.number() })),
    }),
  }),
});

/** Whether the LB's data plane has rules for exactly `count` backends of its service in place. */
export async function rulesCurrent(lab: Lab, lb: LabLb, count: number): Promise<boolean> {
  const parsed = readyzSchema.safeParse(await dataPlaneReadyz(lab.names, lb));
  if (!parsed.success) return false;
  const { writers, services } = parsed.data.detail.dataPlane;
  const written = Object.values(writers).every((w) => w.outcome !== undefined && w.lastError === undefined);
  return written && services[lb.service]?.ready === count;
}

/** Whether the LB's data plane has tried to write its rules since it started (failed or not). */
async function rulesTried(lab: Lab, lb: LabLb): Promise<boolean> {
  const parsed = readyzSchema.safeParse(await dataPlaneReadyz(lab.names, lb));
  if (!parsed.success) return false;
  const writers = Object.values(parsed.data.detail.dataPlane.writers);
  return writers.length > 0 && writers.every((w) => w.outcome !== undefined || w.lastError !== undefined);
}

/**
 * Gives every LB the lab's current backends: running LBs' data planes start again on the new
 * list at once (all in parallel), and the call returns when each has them in its rules. An LB
 * with the `nft-fails` fault cannot: it is waited for until its data plane has tried (and
 * failed), so that its status says so; its old rules keep serving.
 */
export async function syncLbBackends(lab: Lab, timeoutMs = 20_000): Promise<void> {
  const { store, names: n } = lab;
  const count = store.state.backends.length;
  const faulty = new Set(store.state.dataPlaneFaults ?? []);
  await Promise.all(
    store.state.lbs.map(async (lb) => {
      if (!(await lbRunning(store, lb))) {
        await writeLbConfig(store, lb);
        return;
      }
      await restartDataPlane(store, n, lb);
      if (faulty.has(lb.id)) {
        await waitFor(`${lb.id}'s data plane to try its rules`, () => rulesTried(lab, lb), timeoutMs, 25);
        return;
      }
      await waitFor(
        `${lb.id}'s rules for ${count} backends`,
        () => rulesCurrent(lab, lb, count),
        timeoutMs,
        25,
      );
    }),
  );
}

/** A new backend pod: nginx up and answering, then in every LB's rules. Its index (web3 is 3). */
export async function addBackend(lab: Lab, progress: Progress): Promise<number> {
  const { store, names: n } = lab;
  let j = 1;
  while (store.state.backends.includes(j) || store.state.namespaces.includes(n.backend(j))) j++;
  if (j > MAX_BACKENDS) throw new ConfigError(`at most ${MAX_BACKENDS} backends`);
  progress(`backend ${backendName(j)}: nginx`);
  await addBackendNs(store, n, j);
  if (store.state.backendMbit !== undefined) await shapeLink(n.backend(j), store.state.backendMbit);
  await startWeb(store, n, j);
  await store.update((s) => {
    s.backends.push(j);
  });
  progress(`backend ${backendName(j)}: into every LB's rules`);
  await syncLbBackends(lab);
  return j;
}

/** A backend leaves: out of every LB's rules first, then nginx finishes gracefully, then its pod goes. */
export async function removeBackend(lab: Lab, name: string, progress: Progress): Promise<void> {
  const { store, names: n } = lab;
  const j = Number(/^web(\d+)$/.exec(name)?.[1]);
  if (!store.state.backends.includes(j)) throw new ConfigError(`no backend ${name}; see portlb lab status`);
  if (store.state.backends.length === 1) throw new ConfigError('the last backend stays (add another first)');
  await store.update((s) => {
    s.backends = s.backends.filter((x) => x !== j);
  });
  progress(`backend ${name}: out of every LB's rules`);
  await syncLbBackends(lab);
  progress(`backend ${name}: nginx finishes and stops`);
  if (!(await stopWeb(store, j)))
    progress(`backend ${name}: nginx did not finish within its grace period: killed`);
  // What nginx handed its kernel must reach the clients before the pod's network goes.
  const left = await drainSockets(n.backend(j));
  if (left > 0) progress(`backend ${name}: ${left} bytes no client acknowledges any more; its network goes`);
  await killNamespace(n.backend(j));
  await deleteBackendNs(n, j);
  await store.update((s) => {
    s.namespaces = s.namespaces.filter((x) => x !== n.backend(j));
    s.processes = s.processes.filter((p) => p.name !== webProcessName(j));
  });
}
