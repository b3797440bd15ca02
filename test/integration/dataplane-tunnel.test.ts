import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { flowBucket } from '../../src/core/jhash.js';
import { backendAt as entryOf } from '../../src/core/maglev.js';
import { setUpBackend } from '../../src/dataplane/backend-setup.js';
import { checkBackends, type PlaneBackend } from '../../src/dataplane/model.js';
import { createSystem } from '../../src/dataplane/system.js';
import { backendChange, maglevTableOf, tunnelMac } from '../../src/dataplane/tunnel.js';
import type { Backend } from '../../src/sources/backends.js';
import { webConfig, webInput } from '../dataplane/fixtures.js';
import { controllerIn, inNs, mutableBackends, removeAll, spawnIn } from './dataplane-netns.js';
import {
  BACKENDS,
  type BackendName,
  backendOf,
  type ConnectionResult,
  longLived,
  type Topology,
  topology,
  via,
} from './dataplane-tunnel-netns.js';

/*
 * `forwarding: tunnel` with real TCP: a client, two LBs with the same rules and their own state,
 * backends set up by portlb's own backend setup. Long-lived connections survive the router moving
 * them from one LB to the other (and break with nat: measured here), a backend add moves the new
 * flows the Maglev table says and no established one, a removed backend drains, a backend without
 * its decapsulation side fails the check through the data plane with its name and the reason.
 */

const NODE = 'node_modules/.bin/node';
const VIP = '10.1.1.9';
const here = (name: string) => new URL(name, import.meta.url).pathname;
const exec = promisify(execFile);
const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i);

let ns: Topology;
const fixture = { dataPlane: { backendDrainSeconds: 2 } };
const config = webConfig(fixture);
const dataPlane = config.dataPlane!;
const entry = (name: BackendName): Backend => ({ address: BACKENDS[name], port: 8080 });
const nameOf = (address: string) =>
  (Object.keys(BACKENDS) as BackendName[]).find((n) => BACKENDS[n] === address);

/** Both LBs, each with its own controller and backend list (what each LB's EndpointSlice watch gives). */
const lbs = {
  lbA: mutableBackends({ web: [entry('be1'), entry('be2')] }),
  lbB: mutableBackends({ web: [entry('be1'), entry('be2')] }),
};
let controllers: Record<'lbA' | 'lbB', ReturnType<typeof controllerIn>>;

async function setBackends(names: BackendName[]): Promise<void> {
  for (const lb of ['lbA', 'lbB'] as const) {
    lbs[lb].set('web', names.map(entry));
    await controllers[lb].controller.sync('backends changed');
  }
}

/** The ordered ready list the LBs hash over, as the controller checks it. */
function ordered(names: BackendName[]): PlaneBackend[] {
  const check = checkBackends(config.services[0]!, names.map(entry));
  if (!check.ok) throw new Error(check.problems.join('; '));
  return check.backends;
}

/** Which backend the Maglev table gives a new flow from the client's port (what every LB computes). */
function predicted(names: BackendName[], port: number): BackendName {
  const table = maglevTableOf({ backends: ordered(names) }, dataPlane);
  const bucket = flowBucket(
    { saddr: '10.90.0.1', sport: port, daddr: VIP, dport: 80 },
    dataPlane.tableSize,
    dataPlane.seed,
  );
  return nameOf(entryOf(table, bucket)!.split(':')[0]!)!;
}

/** New connections, one per local port: who answered each. */
async function newFlows(ports: readonly number[]): Promise<string[]> {
  return JSON.parse(
    await inNs(ns.client, NODE, here('dataplane-tunnel-ask.mjs'), VIP, ...ports.map(String)),
  ) as string[];
}

async function openLongLived(ports: readonly number[]) {
  return longLived(
    await spawnIn(ns.client, [NODE, here('dataplane-tunnel-client.mjs'), VIP, '80', ...ports.map(String)]),
  );
}

const broken = (results: readonly ConnectionResult[]) => results.filter((r) => r.error !== undefined).length;

/** `nft -j list map` of a Maglev map: its values in bucket order, one string. */
function maglevEntries(json: string): string {
  const listed = JSON.parse(json) as { nftables: { map?: { elem?: [number, string][] } }[] };
  const elements = listed.nftables.flatMap((e) => e.map?.elem ?? []);
  return [...elements]
    .sort(([a], [b]) => a - b)
    .map(([, mac]) => mac)
    .join(' ');
}

async function portlb(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(NODE, ['dist/cli/portlb.mjs', ...args]);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

beforeAll(async () => {
  ns = await topology();
  for (const name of ['be1', 'be2'] as const) {
    const report = await setUpBackend(createSystem({ netns: ns[name] }).run, {
      config,
      address: BACKENDS[name],
    });
    expect(report.problems).toEqual([]);
  }
  for (const name of Object.keys(BACKENDS) as BackendName[]) {
    await spawnIn(ns[name], [NODE, here('dataplane-tunnel-server.mjs'), name, '8080']);
  }
  controllers = {
    lbA: controllerIn(ns.lbA, config, lbs.lbA.source),
    lbB: controllerIn(ns.lbB, config, lbs.lbB.source),
  };
  for (const lb of ['lbA', 'lbB'] as const) {
    await controllers[lb].controller.start();
    await controllers[lb].controller.sync('start');
    await controllers[lb].controller.checked();
    expect(controllers[lb].controller.notReady()).toEqual([]);
  }
  await via(ns, 'lbA');
});
afterAll(removeAll);

describe('forwarding tunnel, real TCP through two LBs', () => {
  it('keeps long-lived connections through a move from LB A to LB B and back, answering the client directly', async () => {
    const ports = range(44001, 16);
    const client = await openLongLived(ports);
    const first = await client.ask();
    expect(broken(first)).toBe(0);
    // Direct return: each backend saw the client's own address and port, nothing rewrote them.
    expect(first.map((r) => r.answer?.split(' ')[1])).toEqual(ports.map((p) => `10.90.0.1:${p}`));
    expect(first.map(backendOf)).toEqual(ports.map((p) => predicted(['be1', 'be2'], p)));
    expect(new Set(first.map(backendOf))).toEqual(new Set(['be1', 'be2']));
    await via(ns, 'lbB');
    const moved = await client.ask();
    await via(ns, 'lbA');
    const back = await client.ask();
    client.close();
    expect({ broken: broken(moved) + broken(back), connections: ports.length }).toEqual({
      broken: 0,
      connections: 16,
    });
    expect(moved.map(backendOf)).toEqual(first.map(backendOf));
    expect(back.map(backendOf)).toEqual(first.map(backendOf));
    // LB B had no state for them: it took them from the table, and remembers them now.
    const remembered = await inNs(ns.lbB, 'nft', 'list', 'map', 'netdev', 'portlb', 'flows-web-tcp-80');
    for (const p of ports) expect(remembered).toContain(`10.90.0.1 . ${p} . ${VIP} . 80`);
    // The LBs keep no conntrack state for these flows: they never reach the LB's IP layer.
    expect(await inNs(ns.lbA, 'conntrack', '-L', '-s', '10.90.0.1')).toBe('');
  });

  it('answers the LB’s own connection to the VIP through the tunnel (a health probe through: vip)', async () => {
    const answer = await inNs(
      ns.lbA,
      'timeout',
      '3',
      'bash',
      '-c',
      `exec 3<>/dev/tcp/${VIP}/80; echo ping >&3; head -1 <&3`,
    );
    expect(answer).toMatch(/^be[12] 10\.(98\.0\.1|90\.1\.2):\d+\n$/);
  });

  it('breaks them with nat on the same move (measured: LB B masquerades with its own address)', async () => {
    for (const lb of [ns.lbA, ns.lbB]) {
      await inNs(lb, 'sysctl', '-qw', 'net.ipv4.ip_forward=1');
      await inNs(lb, 'ip', 'route', 'add', 'local', '10.1.1.0/24', 'dev', 'lo');
    }
    const nat = {
      lbA: controllerIn(ns.lbA, config, lbs.lbA.source, { dataPlane: { forwarding: 'nat' } }),
      lbB: controllerIn(ns.lbB, config, lbs.lbB.source, { dataPlane: { forwarding: 'nat' } }),
    };
    try {
      for (const lb of ['lbA', 'lbB'] as const) {
        const outcome = await nat[lb].controller.sync('nat');
        expect(outcome.writers[0]?.outcome.action).toBe('applied');
      }
      // The nat writer took portlb's tunnel table away in the same transaction.
      await expect(inNs(ns.lbA, 'nft', 'list', 'table', 'netdev', 'portlb')).rejects.toThrow();
      const ports = range(44101, 16);
      const client = await openLongLived(ports);
      const first = await client.ask();
      await via(ns, 'lbB');
      const moved = await client.ask();
      client.close();
      await via(ns, 'lbA');
      expect(broken(first)).toBe(0);
      expect({ broken: broken(moved), connections: ports.length }).toEqual({ broken: 16, connections: 16 });
    } finally {
      for (const lb of [ns.lbA, ns.lbB])
        await inNs(lb, 'ip', 'route', 'del', 'local', '10.1.1.0/24', 'dev', 'lo');
      for (const lb of ['lbA', 'lbB'] as const) {
        await controllers[lb].controller.sync('back to tunnel');
        await controllers[lb].controller.checked();
      }
    }
    expect(controllers.lbA.controller.notReady()).toEqual([]);
    await expect(inNs(ns.lbA, 'nft', 'list', 'table', 'inet', 'portlb')).rejects.toThrow();
  });

  it('says which backend has no decapsulation side and why, through the check that goes through the data plane', async () => {
    await setBackends(['be1', 'be2', 'be3']); // be3 runs its server but nobody set up its tunnel side
    await controllers.lbA.controller.checked();
    const status = controllers.lbA.controller.status();
    expect(status.degraded).toEqual([
      'service web: backend 10.98.0.23:8080 fails the tunnel check: answers at 10.98.0.23 but not through the tunnel (VXLAN 4242, UDP 4789, MAC 02:70:0a:62:00:17) for 10.1.1.0/24: no decapsulating plbvx0 there, or 10.1.1.0/24 not local, or rp_filter drops it; run portlb backend-setup on it',
    ]);
    expect(controllers.lbA.controller.notReady()).toEqual([]); // the others still serve
    const metric = await controllers.lbA.registry.getSingleMetricAsString(
      'portlb_dataplane_tunnel_backend_up',
    );
    expect(metric).toContain('backend="10.98.0.23:8080"} 0');
    expect(metric).toContain('backend="10.98.0.21:8080"} 1');
    // And the flows the table gives it do break (through LB B, whose flow state the next tests do not count).
    const toBe3 = range(45501, 200)
      .filter((p) => predicted(['be1', 'be2', 'be3'], p) === 'be3')
      .slice(0, 3);
    await via(ns, 'lbB');
    const answers = await newFlows(toBe3);
    await via(ns, 'lbA');
    expect(answers).toEqual(toBe3.map(() => expect.stringMatching(/^error: /)));
    await setBackends(['be1', 'be2']);
  });

  it('moves at most 1/N + 5% of new flows on a backend add, as the table says and as the wire shows, and no established flow', async () => {
    const before: BackendName[] = ['be1', 'be2'];
    const after: BackendName[] = ['be1', 'be2', 'be3'];
    const change = backendChange(ordered(before), ordered(after), dataPlane);
    expect(change.movedFraction).toBeLessThanOrEqual(1 / before.length + 0.05);
    expect(change.movedFraction).toBeGreaterThanOrEqual(1 / after.length - 0.01);

    // Established flows: some whose table entry moves to be3, some whose entry stays.
    const candidates = range(46001, 400);
    const moving = candidates.filter((p) => predicted(before, p) !== predicted(after, p)).slice(0, 8);
    const staying = candidates.filter((p) => predicted(before, p) === predicted(after, p)).slice(0, 8);
    const established = await openLongLived([...moving, ...staying]);
    const was = await established.ask();
    expect(broken(was)).toBe(0);

    const sample = range(45001, 60);
    const wireBefore = await newFlows(sample);
    expect(wireBefore).toEqual(sample.map((p) => predicted(before, p)));

    // be3 gets its tunnel side from the shipped command, as an init container would run it.
    const file = join(tmpdir(), `portlb-tunnel-${process.pid}.yaml`);
    await writeFile(file, stringify(webInput(fixture)));
    // (be3 is not in the config's static list: it says its own port, as an EndpointSlice would.)
    const args = [
      'backend-setup',
      '--config',
      file,
      '--address',
      BACKENDS.be3,
      '--port',
      '8080',
      '--netns',
      ns.be3,
    ];
    expect(await portlb(...args)).toMatchObject({ code: 0, stderr: '' });
    expect(await portlb(...args)).toMatchObject({ code: 0, stdout: 'nothing to change\n' });
    await setBackends(after);

    const now = await established.ask();
    established.close();
    expect({
      broken: broken(now),
      moved: now.filter((r, i) => backendOf(r) !== backendOf(was[i]!)).length,
    }).toEqual({
      broken: 0,
      moved: 0,
    });

    // New flows, on the LB that has no state for these 5-tuples: exactly the table's choice.
    await via(ns, 'lbB');
    const wireAfter = await newFlows(sample);
    await via(ns, 'lbA');
    expect(wireAfter).toEqual(sample.map((p) => predicted(after, p)));
    const movedOnWire = sample.filter((_, i) => wireAfter[i] !== wireBefore[i]);
    expect(movedOnWire).toEqual(sample.filter((p) => predicted(before, p) !== predicted(after, p)));
    await controllers.lbA.controller.checked();
    expect(controllers.lbA.controller.status().degraded).toEqual([]);
  });

  it('sends no new flow to a removed backend, keeps its established ones for the drain time, then cuts them', async () => {
    const ports = range(47001, 400);
    const onBe3 = ports.filter((p) => predicted(['be1', 'be2', 'be3'], p) === 'be3').slice(0, 4);
    const elsewhere = ports.filter((p) => predicted(['be1', 'be2', 'be3'], p) !== 'be3').slice(0, 4);
    const client = await openLongLived([...onBe3, ...elsewhere]);
    const was = await client.ask();
    expect(was.map(backendOf)).toEqual([
      ...onBe3.map(() => 'be3'),
      ...elsewhere.map((p) => predicted(['be1', 'be2', 'be3'], p)),
    ]);

    await setBackends(['be1', 'be2']);
    expect(new Set(await newFlows(range(47501, 24)))).not.toContain('be3');
    const draining = await client.ask();
    expect(broken(draining)).toBe(0);

    await new Promise((resolve) => setTimeout(resolve, 2_100)); // backendDrainSeconds: 2
    const over = await controllers.lbA.controller.sync('drain time over');
    expect(over.cut).toEqual([
      { service: 'web', backend: expect.objectContaining({ address: BACKENDS.be3 }), flows: 4 },
    ]);
    const cut = await client.ask();
    client.close();
    expect(cut.map((r) => r.error !== undefined)).toEqual([
      ...onBe3.map(() => true),
      ...elsewhere.map(() => false),
    ]);
  });
  it('swaps the Maglev table whole while the backend set changes under it: every read is one whole table', async () => {
    const sets: BackendName[][] = [
      ['be1', 'be2'],
      ['be1', 'be2', 'be3'],
    ];
    const expected = sets.map((names) => {
      const table = maglevTableOf({ backends: ordered(names) }, dataPlane);
      return Array.from(table.entries, (e) => tunnelMac(table.backends[e]!.split(':')[0]!)).join(' ');
    });
    let flipping = true;
    const seen: string[] = [];
    const reader = (async () => {
      while (flipping)
        seen.push(
          maglevEntries(await inNs(ns.lbA, 'nft', '-j', 'list', 'map', 'netdev', 'portlb', 'maglev-web')),
        );
    })();
    for (let round = 0; round < 8; round++) {
      lbs.lbA.set('web', sets[(round + 1) % 2]!.map(entry));
      // A change that lands while the previous table is being written: the loop writes it next.
      const writing = controllers.lbA.controller.sync('backends changed');
      lbs.lbA.set('web', sets[round % 2]!.map(entry));
      await writing;
      await controllers.lbA.controller.sync('backends changed again');
    }
    flipping = false;
    await reader;
    expect(seen.length).toBeGreaterThan(8);
    expect(seen.filter((table) => !expected.includes(table))).toEqual([]);
    expect(new Set(seen)).toEqual(new Set(expected));
    expect(seen.at(-1)).toBe(expected[1]);
    lbs.lbA.set('web', sets[0]!.map(entry));
    await controllers.lbA.controller.sync('back to two');
  });
});

describe('bench:traffic --survival can drive this', () => {
  it('exposes backendChange for any two lists, and the LB’s registry has the tunnel metrics', async () => {
    const change = backendChange(ordered(['be1', 'be2']), ordered(['be1', 'be2', 'be3']), dataPlane);
    expect(change).toMatchObject({ backendsBefore: 2, backendsAfter: 3 });
    const registry: Registry = controllers.lbA.registry;
    expect(await registry.getSingleMetricAsString('portlb_dataplane_maglev_table_info')).toContain(
      'service="web"',
    );
  });
});
