import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../src/lab/daemons.js';
import { routerTable } from '../../src/lab/fib.js';
import { type Lab, labUp } from '../../src/lab/lab.js';
import { nodeIp } from '../../src/lab/layout.js';
import { startSpeaker } from '../../src/lab/speaker.js';
import { labRunDir, labUnavailable } from './lab-helpers.js';
import { reflectorSessions, routerSnapshot } from './lab-peers.js';

// The LB filter, rendered by `portlb render rr|router` and run by the lab's real gobgpd and FRR,
// against BGP speakers that are not LB pods. No TCP-MD5 here: any pod can open a session.
const unavailable = labUnavailable();
const WEB = '10.1.1.0/24';
const quiet = () => {};

describe.skipIf(unavailable !== undefined)('lab: what the route reflectors take from LB speakers', () => {
  let lab: Lab;
  let run: Awaited<ReturnType<typeof labRunDir>>;
  const dir = () => run.dir;

  beforeAll(async () => {
    run = await labRunDir('policy');
    lab = await labUp({
      dir: run.dir,
      prefix: 'plbp-',
      nodes: 2,
      lbs: 2,
      backends: 1,
      holdTime: 3,
      progress: quiet,
    });
  });

  afterAll(async () => {
    await run?.remove();
  });

  it('a speaker in an ordinary pod puts nothing on the router: no default route, no foreign prefix, no VIP via itself', async () => {
    const before = await routerSnapshot(lab);
    expect(before).toEqual([`${WEB} via ${nodeIp(1)},${nodeIp(2)}`]);
    const rogue = await startSpeaker(lab, {
      name: 'rogue',
      node: 1,
      routes: [
        { prefix: '0.0.0.0/0', nextHop: nodeIp(1) },
        { prefix: '10.200.0.0/16', nextHop: nodeIp(1) },
        { prefix: WEB, nextHop: '10.244.1.60' }, // its own pod IP: no node
      ],
    });
    expect(rogue.address).toBe('10.244.1.60');
    // Both route reflectors hold its session and all three routes, and let none through.
    await waitFor(
      'both route reflectors to receive the rogue routes',
      async () => {
        const mine = (await reflectorSessions(lab)).filter((s) => s.peer === rogue.address);
        return mine.length === 2 && mine.every((s) => s.prefixesReceived === 3);
      },
      20_000,
      200,
    );
    for (const s of (await reflectorSessions(lab)).filter((x) => x.peer === rogue.address)) {
      expect(s).toMatchObject({ prefixesReceived: 3, prefixesAccepted: 0 });
    }
    // The router's table stays as it was, sampled for a while after the reflectors had them all.
    const seen = new Set<string>();
    for (let i = 0; i < 20; i++, await sleep(100)) seen.add((await routerSnapshot(lab)).join(' | '));
    expect([...seen]).toEqual([before.join(' | ')]);
    expect((await routerTable(lab.names.router)).map((r) => r.dst)).not.toContain('default');
  });

  it('more prefixes than bgp.policy.maxPrefixes (100) on one session: both route reflectors close it', async () => {
    const routes = Array.from({ length: 101 }, (_, i) => ({
      prefix: `10.1.${100 + i}.0/24`,
      nextHop: nodeIp(2),
    }));
    await startSpeaker(lab, { name: 'flood', node: 2, routes });
    const logs = {
      gobgp: join(dir(), 'rr-gobgp', 'gobgpd.log'),
      frr: join(dir(), 'rr-frr', 'bgpd.log'),
    };
    await waitFor(
      'both route reflectors to enforce the prefix limit',
      async () => {
        const gobgp = await readFile(logs.gobgp, 'utf8');
        const frr = await readFile(logs.frr, 'utf8');
        return /prefix limit reached.*10\.244\.2\.60/.test(gobgp) && /MAXPFXEXCEED.*10\.244\.2\.60/.test(frr);
      },
      20_000,
      200,
    );
  });
});
