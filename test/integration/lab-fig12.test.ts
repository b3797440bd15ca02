import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routerNextHops } from '../../src/lab/fib.js';
import {
  kill,
  type Lab,
  labDown,
  labUp,
  reviveTarget,
  scaleService,
  waitForReflectors,
} from '../../src/lab/lab.js';
import { ip } from '../../src/system/exec.js';
import { labUnavailable } from './lab-helpers.js';

// The paper's Fig. 12, on the upstream router's kernel table, with real FRR, gobgpd and exabgp.
const unavailable = labUnavailable();
const WEB = '10.1.1.0/24';
const API = '10.1.2.0/24';
const quiet = () => {};

describe.skipIf(unavailable !== undefined)('lab: ECMP routes on the router (paper Fig. 12)', () => {
  let lab: Lab;
  let dir: string;
  let parent: string;

  beforeAll(async () => {
    parent = await mkdtemp(join(tmpdir(), 'portlb-lab-test-'));
    // FRR and exabgp run as their own users and must reach their config files in here.
    await chmod(parent, 0o755);
    dir = join(parent, 'run');
    lab = await labUp({ dir, prefix: 'plbl-', nodes: 3, lbs: 1, backends: 1, holdTime: 3, progress: quiet });
  });

  afterAll(async () => {
    if (dir) await labDown(dir, quiet);
    if (parent) await rm(parent, { recursive: true, force: true });
  });

  const table = () => ip(lab.names.router, 'route', 'show');

  it('(a) one LB pod: one next hop, installed by zebra (proto bgp)', async () => {
    expect(await routerNextHops(lab.names.router, WEB)).toEqual(['10.99.0.11']);
    expect(await table()).toMatch(/^10\.1\.1\.0\/24 (nhid \d+ )?via 10\.99\.0\.11 dev eth0 proto bgp/m);
  });

  it('(b) three LB pods: three next hops of weight 1', async () => {
    await scaleService(lab, 'web', 3, quiet);
    expect(await routerNextHops(lab.names.router, WEB)).toEqual(['10.99.0.11', '10.99.0.12', '10.99.0.13']);
    const text = await table();
    expect(text.match(/nexthop via 10\.99\.0\.1[123] dev eth0 weight 1/g)).toHaveLength(3);
  });

  it('(c) a second service with two LB pods beside the first with three', async () => {
    await scaleService(lab, 'api', 2, quiet);
    expect(await routerNextHops(lab.names.router, API)).toEqual(['10.99.0.11', '10.99.0.12']);
    expect(await routerNextHops(lab.names.router, WEB)).toEqual(['10.99.0.11', '10.99.0.12', '10.99.0.13']);
  });

  /** Samples the router's table for a while: every sample must equal `want`. */
  async function steady(ms: number): Promise<Set<string>> {
    const seen = new Set<string>();
    for (const end = Date.now() + ms; Date.now() < end; await sleep(100)) {
      const web = (await routerNextHops(lab.names.router, WEB)).join(',');
      const api = (await routerNextHops(lab.names.router, API)).join(',');
      seen.add(`${web} | ${api}`);
    }
    return seen;
  }
  const both = '10.99.0.11,10.99.0.12,10.99.0.13 | 10.99.0.11,10.99.0.12';

  it.each(['rr-gobgp', 'rr-frr'])(
    'losing route reflector %s changes nothing on the router; the other carries every path',
    async (rr) => {
      await waitForReflectors(lab);
      await kill(lab, rr, 'kill');
      // Past the 3 s hold time: the router has dropped the session and every path it carried.
      expect([...(await steady(4500))]).toEqual([both]);
      // Changes still reach the router through the remaining reflector alone.
      await scaleService(lab, 'api', 1, quiet);
      expect(await routerNextHops(lab.names.router, API)).toEqual(['10.99.0.11']);
      await scaleService(lab, 'api', 2, quiet);
      await reviveTarget(lab, rr);
      await waitForReflectors(lab);
    },
  );
});
