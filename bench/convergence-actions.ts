import { execFile } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { waitFor } from '../src/lab/daemons.js';
import type { Lab } from '../src/lab/lab.js';
import { ROUTE_REFLECTORS } from '../src/lab/layout.js';
import { lbProcessName, startLb } from '../src/lab/lb.js';
import { setNodeLink } from '../src/lab/network.js';
import { isOurs, killNamespace, pidsIn } from '../src/lab/procs.js';
import type { LabLb } from '../src/lab/state.js';
import type { EventKind, Slot } from './convergence-events.js';

/* What the convergence benchmark does to the lab: each event, and the clean-up after it. */

export interface BenchSlot extends Slot {
  readonly lb: LabLb;
}

/**
 * Waits until the LB pod's sidecar has exited (a graceful stop drains first), then reaps what is
 * left in the pod (its bfdd, which a pod's termination stops too).
 */
export async function reap(lab: Lab, lb: LabLb): Promise<void> {
  const ns = lab.names.lb(lb.id);
  const sidecar = lab.store.state.processes.find((p) => p.name === lbProcessName(lb.id));
  const gone = async () =>
    sidecar === undefined ? (await pidsIn(ns)).length === 0 : !(await isOurs(sidecar));
  await waitFor(`${lb.id} to exit`, gone, 10_000).catch(() => undefined);
  await killNamespace(ns);
}

export async function perform(lab: Lab, kind: EventKind, slot: BenchSlot): Promise<number> {
  const ns = lab.names.lb(slot.lb.id);
  switch (kind) {
    case 'start': {
      const t0 = performance.now();
      await startLb(lab.store, lab.names, slot.lb);
      return t0;
    }
    case 'graceful-stop': {
      const proc = lab.store.state.processes.find((p) => p.name === lbProcessName(slot.lb.id));
      if (proc === undefined) throw new Error(`no sidecar recorded for ${slot.lb.id}`);
      const t0 = performance.now();
      process.kill(proc.pid, 'SIGTERM');
      return t0;
    }
    case 'sigkill': {
      const pids = await pidsIn(ns);
      const t0 = performance.now();
      for (const pid of pids) process.kill(pid, 'SIGKILL');
      return t0;
    }
    case 'node-death': {
      const t0 = performance.now();
      await setNodeLink(lab.names, slot.node, false);
      return t0;
    }
  }
}

/** Whether `ns` reaches `address` now (one ping, 200 ms). */
function reaches(ns: string, address: string): Promise<boolean> {
  return new Promise((done) =>
    execFile('ip', ['netns', 'exec', ns, 'ping', '-c1', '-W0.2', '-q', address], (error) => done(!error)),
  );
}

/**
 * After a node death: the node "reboots" (its pods are gone) and rejoins, with its LB stopped. It
 * has rejoined when it reaches both route reflectors again: a kubelet starts pods on a node well
 * after its network is back, and an LB started before that (within ~0.5 s of the link coming up)
 * loses its first SYN and waits TCP's 1 s retransmission, which measures the lab, not portlb.
 */
export async function reboot(lab: Lab, slot: BenchSlot): Promise<void> {
  await killNamespace(lab.names.lb(slot.lb.id));
  await setNodeLink(lab.names, slot.node, true);
  const ns = lab.names.node(slot.node);
  await waitFor(
    `node${slot.node} reaching the route reflectors`,
    async () => (await Promise.all(ROUTE_REFLECTORS.map((rr) => reaches(ns, rr.address)))).every(Boolean),
    10_000,
  );
}
