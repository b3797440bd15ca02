/**
 * Network namespaces for the data-plane tests (`plbdp-<random>-<role>`), with the processes
 * started in them. Everything is removed by `removeAll` (afterAll) and, if the run dies first,
 * by an exit hook.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Registry } from 'prom-client';
import type { Config } from '../../src/config/load.js';
import type { DataPlaneConfig } from '../../src/config/schema.js';
import { createDataPlane } from '../../src/dataplane/create.js';
import type { DataPlaneSystem } from '../../src/dataplane/system.js';
import { silentLogger } from '../../src/runtime/logger.js';
import type { Backend, BackendSource } from '../../src/sources/backends.js';
import { run } from '../../src/system/exec.js';

const created = new Set<string>();
const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
  for (const name of created) {
    try {
      execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
    } catch {
      // already gone
    }
  }
});

export const runId = randomBytes(3).toString('hex');

/** A namespace `PREFIX-<run>-ROLE`, removed by `removeAll`; each test file family has its own prefix. */
export async function addNetns(role: string, prefix = 'plbdp'): Promise<string> {
  const name = `${prefix}-${runId}-${role}`;
  created.add(name);
  await run(['ip', 'netns', 'add', name]);
  await run(['ip', '-n', name, 'link', 'set', 'lo', 'up']);
  return name;
}

export const inNs = (ns: string, ...argv: string[]) => run(['ip', 'netns', 'exec', ns, ...argv]);

/** A veth pair from namespace a (aName) to b (bName), both up. */
export async function veth(a: string, aName: string, b: string, bName: string): Promise<void> {
  const tmp = `pd${runId}${aName}`.slice(0, 15);
  await inNs(a, 'ip', 'link', 'add', tmp, 'type', 'veth', 'peer', 'name', bName, 'netns', b);
  await inNs(a, 'ip', 'link', 'set', tmp, 'name', aName);
  await inNs(a, 'ip', 'link', 'set', aName, 'up');
  await inNs(b, 'ip', 'link', 'set', bName, 'up');
}

/** A bridge `br0` in namespace `sw` with each member's `eth1` on it, at its address (/24). */
export async function switchWith(sw: string, members: readonly (readonly [string, string])[]): Promise<void> {
  await inNs(sw, 'ip', 'link', 'add', 'br0', 'type', 'bridge');
  await inNs(sw, 'ip', 'link', 'set', 'br0', 'up');
  for (const [i, [peer, address]] of members.entries()) {
    await veth(sw, `p${i}`, peer, 'eth1');
    await inNs(sw, 'ip', 'link', 'set', `p${i}`, 'master', 'br0');
    await inNs(peer, 'ip', 'addr', 'add', `${address}/24`, 'dev', 'eth1');
  }
}

/** `nft -j list ruleset` of a namespace, parsed, without the metainfo entry. */
export async function ruleset(ns: string): Promise<Record<string, Record<string, unknown>>[]> {
  const json = JSON.parse(await inNs(ns, 'nft', '-j', 'list', 'ruleset')) as {
    nftables: Record<string, Record<string, unknown>>[];
  };
  return json.nftables.filter((e) => !('metainfo' in e));
}

/** Every entry of a ruleset that does not belong to portlb's table. */
export const othersThan = (entries: Awaited<ReturnType<typeof ruleset>>, table = 'portlb') =>
  entries.filter((e) => {
    const value = Object.values(e)[0] ?? {};
    return (value.table ?? value.name) !== table || value.family !== 'inet';
  });

/** A long-running process inside a namespace; resolves once it printed `ready`. */
export function spawnIn(ns: string, argv: string[]): Promise<ChildProcess> {
  const child = spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['pipe', 'pipe', 'inherit'] });
  children.add(child);
  child.on('exit', () => children.delete(child));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${argv.join(' ')} in ${ns}: not ready after 10 s`)),
      10_000,
    );
    child.stdout?.once('data', () => {
      clearTimeout(timer);
      resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`${argv.join(' ')} in ${ns} exited with ${code}`)));
  });
}

export async function removeAll(): Promise<void> {
  for (const child of children) child.kill('SIGKILL');
  children.clear();
  for (const name of created) {
    await run(['ip', 'netns', 'del', name]).catch(() => {});
    created.delete(name);
  }
}

/** A backend source whose lists a test changes (what the EndpointSlices would do). */
export function mutableBackends(initial: Record<string, Backend[]>) {
  const lists = new Map(Object.entries(initial));
  const listeners = new Set<(service: string) => void>();
  const source: BackendSource = {
    backends: (service) => [...(lists.get(service) ?? [])],
    onChange: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  return {
    source,
    set(service: string, next: Backend[]) {
      lists.set(service, next);
      for (const listener of listeners) listener(service);
    },
  };
}

/** The static backends of a config, per service. */
export const staticLists = (config: Pick<Config, 'services'>): Record<string, Backend[]> =>
  Object.fromEntries(config.services.map((s) => [s.name, 'static' in s.backends ? s.backends.static : []]));

/** A controller writing into a namespace, as `portlb dataplane --netns NS` builds it. */
export function controllerIn(
  ns: string,
  config: Pick<Config, 'owner' | 'services' | 'dataPlane'>,
  backends: BackendSource,
  options: { dataPlane?: Partial<DataPlaneConfig>; system?: DataPlaneSystem } = {},
) {
  const registry = new Registry();
  const controller = createDataPlane({
    config,
    backends,
    logger: silentLogger(),
    registry,
    netns: ns,
    ...options,
  });
  return { controller, registry };
}
