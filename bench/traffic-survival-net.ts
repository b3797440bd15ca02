import { type ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import { parseConfig } from '../src/config/load.js';
import { setUpBackend } from '../src/dataplane/backend-setup.js';
import type { DataPlaneController } from '../src/dataplane/controller.js';
import { createDataPlane } from '../src/dataplane/create.js';
import { createSystem } from '../src/dataplane/system.js';
import { silentLogger } from '../src/runtime/logger.js';
import type { Backend, BackendSource } from '../src/sources/backends.js';
import { run } from '../src/system/exec.js';

/*
 * The network of one `bench:traffic --survival` run (namespaces `plbsv-<pid>-<n|t>-ROLE`):
 *
 *   client 10.90.0.1 -- router -- lbI eth0 10.91.I.2 (one /30 each)   lbI eth1 10.98.0.I \
 *                         \ sw0 10.98.0.254 ------------------------------------------- sw -- beJ 10.98.0.2J
 *
 * The router's route to the VIP range is the kernel's multipath route over the serving LBs with
 * the L4 hash (what zebra installs from the LBs' BGP routes). The backends' default route is the
 * router's switch address: with `tunnel` they answer the client that way, past the LBs.
 */

export type Forwarding = 'nat' | 'tunnel';
export const VIP_RANGE = '10.1.1.0/24';
export const VIP = '10.1.1.9';
export const CLIENT = '10.90.0.1';
export const NODE = resolve('node_modules/.bin/node');
export const benchFile = (name: string) => fileURLToPath(new URL(`../../bench/${name}`, import.meta.url));
export const backendIp = (j: number) => `10.98.0.${20 + j}`;
const entry = (j: number): Backend => ({ address: backendIp(j), port: 8080 });
const lbLink = (i: number) => ({ router: `10.91.${i}.1`, lb: `10.91.${i}.2` });

export interface SurvivalConfig {
  readonly seed: number;
  readonly drainSeconds: number;
}

export function survivalConfig(forwarding: Forwarding, backends: readonly Backend[], c: SurvivalConfig) {
  return parseConfig(
    {
      mode: 'bgp',
      owner: 'bench',
      allowedVipPools: ['10.1.0.0/16'],
      services: [{ name: 'web', vip: VIP_RANGE, ports: [{ port: 80 }], backends: { static: backends } }],
      bgp: { localAs: 65000, peers: [{ address: '10.99.0.2', as: 65000 }] },
      dataPlane: { forwarding, seed: c.seed, backendDrainSeconds: c.drainSeconds },
    },
    {},
  );
}

/** The namespaces and processes of one run, each removed by `down`. */
function createNamespaces(prefix: string) {
  const names = new Set<string>();
  const children = new Set<ChildProcess>();
  let links = 0;
  return {
    async add(role: string): Promise<string> {
      const name = `${prefix}${role}`;
      names.add(name);
      await run(['ip', 'netns', 'add', name]);
      await run(['ip', 'link', 'set', 'lo', 'up'], { ns: name });
      return name;
    },
    async remove(name: string): Promise<void> {
      await run(['ip', 'netns', 'del', name]);
      names.delete(name);
    },
    async veth(a: string, aName: string, b: string, bName: string): Promise<void> {
      const tmp = `sv${links++}${aName}`.slice(0, 15);
      await run(['ip', 'link', 'add', tmp, 'type', 'veth', 'peer', 'name', bName, 'netns', b], { ns: a });
      await run(['ip', 'link', 'set', tmp, 'name', aName], { ns: a });
      await run(['ip', 'link', 'set', aName, 'up'], { ns: a });
      await run(['ip', 'link', 'set', bName, 'up'], { ns: b });
    },
    /** A long-running process in a namespace; resolves once it printed its first line. */
    spawn(ns: string, argv: string[]): Promise<ChildProcess> {
      const child = spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['pipe', 'pipe', 'inherit'] });
      children.add(child);
      child.on('exit', () => children.delete(child));
      return new Promise((done, fail) => {
        child.stdout?.once('data', () => done(child));
        child.once('exit', (code) => fail(new Error(`${argv.join(' ')} in ${ns} exited with ${code}`)));
      });
    },
    async down(): Promise<void> {
      for (const child of children) child.kill('SIGKILL');
      for (const name of names) await run(['ip', 'netns', 'del', name]).catch(() => undefined);
      names.clear();
    },
  };
}

/** A link's rate limit (the LB's NIC), on one end of it. */
const shape = (ns: string, dev: string, mbit: number) =>
  run(
    [
      'tc',
      'qdisc',
      'replace',
      'dev',
      dev,
      'root',
      'tbf',
      'rate',
      `${mbit}mbit`,
      'burst',
      '64kb',
      'latency',
      '50ms',
    ],
    {
      ns,
    },
  );

interface Lb {
  readonly i: number;
  readonly ns: string;
  readonly controller: DataPlaneController;
  /** What this LB's EndpointSlice watch gives it from now on. */
  readonly setList: (list: Backend[]) => void;
}

/** Builds the network with 3 LBs and 3 backends; the bench changes it through what this returns. */
export async function createSurvivalNet(forwarding: Forwarding, c: SurvivalConfig) {
  const net = createNamespaces(`plbsv-${process.pid % 100_000}-${forwarding[0]}-`);
  const client = await net.add('client');
  const router = await net.add('router');
  const sw = await net.add('sw');
  await run(['ip', 'link', 'add', 'br0', 'type', 'bridge'], { ns: sw });
  await run(['ip', 'link', 'set', 'br0', 'up'], { ns: sw });
  let port = 0;
  const onSwitch = async (ns: string, address: string) => {
    const p = `p${port++}`;
    await net.veth(sw, p, ns, 'eth1');
    await run(['ip', 'link', 'set', p, 'master', 'br0'], { ns: sw });
    await run(['ip', 'addr', 'add', `${address}/24`, 'dev', 'eth1'], { ns });
  };
  await net.veth(client, 'eth0', router, 'cl0');
  await run(['ip', 'addr', 'add', `${CLIENT}/24`, 'dev', 'eth0'], { ns: client });
  await run(['ip', 'route', 'add', 'default', 'via', '10.90.0.254'], { ns: client });
  await run(['ip', 'addr', 'add', '10.90.0.254/24', 'dev', 'cl0'], { ns: router });
  await onSwitch(router, '10.98.0.254');
  for (const key of ['net.ipv4.ip_forward=1', 'net.ipv4.fib_multipath_hash_policy=1'])
    await run(['sysctl', '-qw', key], { ns: router });

  let backends: number[] = [];
  let serving: Lb[] = [];
  const config = (ids: readonly number[]) => survivalConfig(forwarding, ids.map(entry), c);

  /** A backend's namespace, its server, and with `tunnel` its side of the tunnel (`backend-setup`). */
  async function addBackendNs(j: number): Promise<void> {
    const ns = await net.add(`be${j}`);
    await onSwitch(ns, backendIp(j));
    await run(['ip', 'route', 'add', 'default', 'via', '10.98.0.254'], { ns });
    if (forwarding === 'tunnel') {
      const report = await setUpBackend(createSystem({ netns: ns }).run, {
        config: config([j]),
        address: backendIp(j),
      });
      if (report.problems.length > 0) throw new Error(report.problems.join('; '));
    }
    await net.spawn(ns, [NODE, benchFile('traffic-survival-server.mjs'), `be${j}`, '8080']);
  }

  /** An LB pod: its links, the VIP local for `nat`, its data plane written and ready. Not routed yet. */
  async function addLb(i: number): Promise<Lb> {
    const ns = await net.add(`lb${i}`);
    const link = lbLink(i);
    await net.veth(router, `lb${i}`, ns, 'eth0');
    await run(['ip', 'addr', 'add', `${link.router}/30`, 'dev', `lb${i}`], { ns: router });
    await run(['ip', 'addr', 'add', `${link.lb}/30`, 'dev', 'eth0'], { ns });
    await onSwitch(ns, `10.98.0.${i}`);
    await run(['ip', 'route', 'add', '10.90.0.0/16', 'via', link.router], { ns });
    if (forwarding === 'nat') {
      // The LB pod takes the VIP range as local and forwards (paper Fig. 7b).
      await run(['ip', 'route', 'add', 'local', VIP_RANGE, 'dev', 'lo'], { ns });
      await run(['sysctl', '-qw', 'net.ipv4.ip_forward=1'], { ns });
    } else {
      for (const dev of ['all', 'eth0'])
        await run(['sysctl', '-qw', `net.ipv4.conf.${dev}.rp_filter=2`], { ns });
    }
    let list = backends.map(entry);
    const source: BackendSource = { backends: () => [...list], onChange: () => () => {} };
    const controller = createDataPlane({
      config: config(backends),
      backends: source,
      logger: silentLogger(),
      registry: new Registry(),
      netns: ns,
    });
    const lb: Lb = { i, ns, controller, setList: (next) => (list = next) };
    await controller.start();
    await controller.sync('start');
    await controller.checked();
    const notReady = controller.notReady();
    if (notReady.length > 0) throw new Error(`lb${i} not ready: ${notReady.join('; ')}`);
    return lb;
  }

  /** The router's multipath route over these LBs (what a BGP change makes zebra install). */
  async function routeOver(lbs: readonly Lb[]): Promise<void> {
    serving = [...lbs];
    const hops = lbs.flatMap((l) => ['nexthop', 'via', lbLink(l.i).lb]);
    await run(['ip', 'route', 'replace', VIP_RANGE, ...hops], { ns: router });
  }

  for (const j of [1, 2, 3]) await addBackendNs(j);
  backends = [1, 2, 3];
  await routeOver([await addLb(1), await addLb(2), await addLb(3)]);

  return {
    client,
    serving: () => serving,
    backends: () => backends,
    spawn: net.spawn,
    addBackendNs,
    async scaleUp(i: number) {
      await routeOver([...serving, await addLb(i)]);
    },
    /** Withdraw (the sidecar's first step), keep serving for the drain time, then the pod is gone. */
    async gracefulStop(lb: Lb) {
      await routeOver(serving.filter((l) => l !== lb));
      await new Promise((done) => setTimeout(done, c.drainSeconds * 1000));
      lb.controller.stop();
      await net.remove(lb.ns);
    },
    /** Every serving LB gets the new list and writes it (EndpointSlices reaching each LB). */
    async setBackends(ids: number[]) {
      backends = ids;
      for (const lb of serving) lb.setList(ids.map(entry));
      for (const lb of serving) await lb.controller.sync('backends changed');
    },
    /** After the drain time: each LB cuts the removed backend's flows. */
    async endDrain() {
      await new Promise((done) => setTimeout(done, c.drainSeconds * 1000 + 100));
      for (const lb of serving) await lb.controller.sync('drain time over');
    },
    /** Each serving LB's link limited, at both ends. */
    async shapeLbLinks(mbit: number) {
      for (const lb of serving) {
        await shape(lb.ns, 'eth0', mbit);
        await shape(router, `lb${lb.i}`, mbit);
      }
    },
    async down() {
      for (const lb of serving) lb.controller.stop();
      await net.down();
    },
  };
}
