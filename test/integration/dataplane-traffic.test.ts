import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/load.js';
import { webConfig } from '../dataplane/fixtures.js';
import {
  addNetns,
  controllerIn,
  inNs,
  mutableBackends,
  removeAll,
  spawnIn,
  staticLists,
  switchWith,
  veth,
} from './dataplane-netns.js';

/*
 * Real TCP through the nftables data plane. Namespaces: a client, two independent LBs (each with
 * its own controller and the same rules), two backends answering with their names, and a switch
 * (a bridge) joining the LBs and the backends:
 *
 *   client (10.90.0.1) --veth--> lb1 (10.90.1.2)  \                   / be1 10.98.0.21:8080
 *                      --veth--> lb2 (10.90.2.2)   -- sw: 10.98.0.0/24 -- be2 10.98.0.22:8080
 *
 * The client reaches the VIP 10.1.1.0/24 through lb1 or lb2 (a route it switches), always from
 * 10.90.0.1, so the same source port makes the same 5-tuple through either LB. Each LB takes the
 * VIP range as local, as the paper's LB pods and the lab's do.
 */

const NODE = 'node_modules/.bin/node';
const VIP = '10.1.1.1';
const BACKENDS = { be1: '10.98.0.21', be2: '10.98.0.22' } as const;
const here = (name: string) => new URL(name, import.meta.url).pathname;

let ns: Record<'client' | 'lb1' | 'lb2' | 'sw' | 'be1' | 'be2', string>;
let config: Config;

async function topology(): Promise<void> {
  ns = {
    client: await addNetns('client'),
    lb1: await addNetns('lb1'),
    lb2: await addNetns('lb2'),
    sw: await addNetns('sw'),
    be1: await addNetns('be1'),
    be2: await addNetns('be2'),
  };
  await switchWith(ns.sw, [
    [ns.lb1, '10.98.0.1'],
    [ns.lb2, '10.98.0.2'],
    [ns.be1, BACKENDS.be1],
    [ns.be2, BACKENDS.be2],
  ]);
  await inNs(ns.client, 'ip', 'addr', 'add', '10.90.0.1/32', 'dev', 'lo');
  for (const [i, lb] of [ns.lb1, ns.lb2].entries()) {
    const n = i + 1;
    await veth(ns.client, `to${n}`, lb, 'eth0');
    await inNs(ns.client, 'ip', 'addr', 'add', `10.90.${n}.1/30`, 'dev', `to${n}`);
    await inNs(lb, 'ip', 'addr', 'add', `10.90.${n}.2/30`, 'dev', 'eth0');
    await inNs(lb, 'ip', 'route', 'add', '10.90.0.1/32', 'via', `10.90.${n}.1`);
    await inNs(lb, 'sysctl', '-qw', 'net.ipv4.ip_forward=1');
    // As in the paper and the lab: the LB pod takes the VIP range as local.
    await inNs(lb, 'ip', 'route', 'add', 'local', '10.1.1.0/24', 'dev', 'lo');
  }
}

/** Sends the client's traffic for the VIP range through one LB, from 10.90.0.1. */
const via = (lb: 1 | 2) =>
  inNs(ns.client, 'ip', 'route', 'replace', '10.1.1.0/24', 'via', `10.90.${lb}.2`, 'src', '10.90.0.1');

/** One HTTP request per client port, each on a new connection from that port: who answered. */
async function askAll(ports: readonly number[]): Promise<string[]> {
  const out = await inNs(ns.client, NODE, here('dataplane-ask.mjs'), VIP, ...ports.map(String));
  return JSON.parse(out) as string[];
}

const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i);

/** Reads the hold client's answers, one JSON line per request. */
function holdClient(child: ChildProcess) {
  const lines: string[] = [];
  let waiting: ((line: string) => void) | undefined;
  let buffer = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    for (let at = buffer.indexOf('\n'); at >= 0; at = buffer.indexOf('\n')) {
      const line = buffer.slice(0, at);
      buffer = buffer.slice(at + 1);
      if (waiting) {
        const resolve = waiting;
        waiting = undefined;
        resolve(line);
      } else lines.push(line);
    }
  });
  return {
    request(): Promise<{ body?: string; reused?: boolean; error?: string }> {
      child.stdin?.write('go\n');
      const next = lines.shift();
      const line = next !== undefined ? Promise.resolve(next) : new Promise<string>((r) => (waiting = r));
      return line.then((l) => JSON.parse(l));
    },
  };
}

beforeAll(async () => {
  await topology();
  for (const name of ['be1', 'be2'] as const) {
    await spawnIn(ns[name], [NODE, here('dataplane-backend.mjs'), name, '8080']);
  }
  config = webConfig({
    backends: Object.values(BACKENDS).map((address) => ({ address, port: 8080 })),
    dataPlane: { forwarding: 'nat', backendDrainSeconds: 1 },
  });
});
afterAll(removeAll);

describe('real traffic through the nftables data plane', () => {
  it('sends a flow to the same backend every time, through either LB', async () => {
    const lb1 = controllerIn(ns.lb1, config, mutableBackends(staticLists(config)).source);
    const lb2 = controllerIn(ns.lb2, config, mutableBackends(staticLists(config)).source);
    await lb1.controller.sync('test');
    await lb2.controller.sync('test');
    expect([lb1.controller.notReady(), lb2.controller.notReady()]).toEqual([[], []]);
    const ports = range(42001, 16);
    await via(1);
    const first = await askAll(ports);
    const again = await askAll(ports);
    await via(2);
    const otherLb = await askAll(ports);
    expect(new Set(first)).toEqual(new Set(['be1', 'be2']));
    expect(again).toEqual(first);
    expect(otherLb).toEqual(first);
  });

  it('sends no new flow to a removed backend at once, keeps its established flow for the drain time, then cuts it', async () => {
    await via(1);
    const backends = mutableBackends(staticLists(config));
    const { controller } = controllerIn(ns.lb1, config, backends.source);
    await controller.sync('start');
    const hold = holdClient(
      await spawnIn(ns.client, [NODE, here('dataplane-hold-client.mjs'), `http://${VIP}/keep`, '43001']),
    );
    const opened = await hold.request();
    const removed = opened.body as keyof typeof BACKENDS;
    const kept = removed === 'be1' ? 'be2' : 'be1';
    expect(opened).toEqual({ body: removed, reused: false });

    backends.set('web', [{ address: BACKENDS[kept], port: 8080 }]);
    await controller.sync('backend removed');
    expect(new Set(await askAll(range(43101, 12)))).toEqual(new Set([kept]));
    expect(await hold.request()).toEqual({ body: removed, reused: true });

    await new Promise((resolve) => setTimeout(resolve, 1_100)); // backendDrainSeconds: 1
    const over = await controller.sync('drain time over');
    expect(over.cut).toEqual([
      {
        service: 'web',
        backend: expect.objectContaining({ address: BACKENDS[removed] }),
        flows: expect.any(Number),
      },
    ]);
    expect(over.cut[0]?.flows).toBeGreaterThanOrEqual(1);
    const held = await inNs(ns.lb1, 'conntrack', '-L', '-p', 'tcp', '--orig-port-src', '43001');
    expect(held).toBe('');
    expect(await hold.request()).toHaveProperty('error');
    expect(await hold.request()).toEqual({ body: kept, reused: false });
  });

  it('answers the LB’s own connections to the VIP (a health probe through: vip), and refuses them with no backend', async () => {
    const backends = mutableBackends(staticLists(config));
    const { controller } = controllerIn(ns.lb1, config, backends.source);
    await controller.sync('start');
    const probe = () => inNs(ns.lb1, 'curl', '-s', '--max-time', '2', `http://${VIP}/`);
    expect(['be1', 'be2']).toContain((await probe()).trim());
    backends.set('web', []);
    await controller.sync('no backend');
    await expect(probe()).rejects.toMatchObject({ exitCode: 7 }); // curl: connection refused
  });
});
