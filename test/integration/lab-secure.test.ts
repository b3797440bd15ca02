import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../src/lab/daemons.js';
import { routerNextHops } from '../../src/lab/fib.js';
import { kill, type Lab, labUp } from '../../src/lab/lab.js';
import { nodeIp } from '../../src/lab/layout.js';
import { labKey, startSpeaker } from '../../src/lab/speaker.js';
import { labRunDir, labUnavailable } from './lab-helpers.js';
import { reflectorSessions, routerSnapshot } from './lab-peers.js';

// The lab with TCP-MD5 on every LB session and BFD on both route reflectors (GoBGP v4's own BFD,
// FRR bgpd with bfdd), FRR bfdd beside each LB pod's exabgp. Hold time 9 s: what leaves the
// router within a few seconds was taken out by BFD, not by the hold timer.
const unavailable = labUnavailable();
const WEB = '10.1.1.0/24';
const HOLD = 9;
const quiet = () => {};

describe.skipIf(unavailable !== undefined)(
  'lab: only LB pods with the key peer; BFD sees a dead node',
  () => {
    let lab: Lab;
    let run: Awaited<ReturnType<typeof labRunDir>>;
    const dir = () => run.dir;

    beforeAll(async () => {
      run = await labRunDir('secure');
      lab = await labUp({
        dir: run.dir,
        prefix: 'plbs-',
        nodes: 3,
        lbs: 2,
        backends: 1,
        holdTime: HOLD,
        md5: true,
        bfd: true,
        progress: quiet,
      });
    });

    afterAll(async () => {
      await run?.remove();
    });

    const lbAddress = (node: number) => `10.244.${node}.11`;
    const sessionsOf = async (address: string) =>
      (await reflectorSessions(lab)).filter((s) => s.peer === address);

    it('each LB pod signs its sessions and has BFD up with both route reflectors', async () => {
      expect(await routerNextHops(lab.names.router, WEB)).toEqual([nodeIp(1), nodeIp(2)]);
      await waitFor(
        'BFD up for both LB pods on both route reflectors',
        async () => {
          const lbs = [...(await sessionsOf(lbAddress(1))), ...(await sessionsOf(lbAddress(2)))];
          return lbs.length === 4 && lbs.every((s) => s.bfd === 'up' && /^established$/i.test(s.state));
        },
        20_000,
        200,
      );
    });

    it.each([
      ['no key', undefined, 0],
      ['a wrong key', 'not-the-lab-key', 1],
    ])(
      'a speaker in an ordinary pod with %s never reaches Established, and the router gets nothing',
      async (_what, key, index) => {
        const before = await routerSnapshot(lab);
        const name = key === undefined ? 'nokey' : 'wrongkey';
        const rogue = await startSpeaker(lab, {
          name,
          node: 3,
          index,
          ...(key !== undefined && { key }),
          routes: [
            { prefix: '0.0.0.0/0', nextHop: nodeIp(3) },
            { prefix: WEB, nextHop: nodeIp(3) },
          ],
        });
        // Long enough for several of exabgp's connection attempts, each dropped by the kernel: the
        // listener's TCP-MD5 key covers the whole LB range.
        for (let i = 0; i < 25; i++, await sleep(200)) {
          const mine = await sessionsOf(rogue.address);
          expect(mine.filter((s) => /^established$/i.test(s.state))).toEqual([]);
          expect(await routerSnapshot(lab)).toEqual(before);
        }
      },
    );

    it('an LB pod with the key announcing a VIP outside the pools: refused by both route reflectors and counted', async () => {
      const evil = await startSpeaker(lab, {
        name: 'evil-lb',
        node: 3,
        index: 2,
        key: await labKey(lab),
        routes: [{ prefix: '10.200.1.0/24', nextHop: nodeIp(3) }],
      });
      await waitFor(
        'both route reflectors to receive its route',
        async () => {
          const mine = await sessionsOf(evil.address);
          return mine.length === 2 && mine.every((s) => s.prefixesReceived === 1);
        },
        20_000,
        200,
      );
      for (const s of await sessionsOf(evil.address)) {
        expect(s).toMatchObject({ prefixesReceived: 1, prefixesAccepted: 0 });
      }
      expect(await routerNextHops(lab.names.router, '10.200.1.0/24')).toEqual([]);
    });

    it('the key is in no log the lab wrote (only in the peer configs and the key file)', async () => {
      const key = await labKey(lab);
      const logs: string[] = [];
      const walk = async (d: string): Promise<void> => {
        for (const entry of await readdir(d, { withFileTypes: true })) {
          const path = join(d, entry.name);
          if (entry.isDirectory()) await walk(path);
          else if (/\.(log|out)$/.test(entry.name)) logs.push(path);
        }
      };
      await walk(dir());
      expect(logs.length).toBeGreaterThan(5);
      for (const file of logs) expect(`${file}: ${await readFile(file, 'utf8')}`).not.toContain(key);
    });

    it(`a silent link-down of an LB's node leaves the router long before the ${HOLD} s hold time, through both reflectors`, async () => {
      const t0 = Date.now();
      await kill(lab, 'node2', 'link-down');
      await waitFor(
        `the router to drop ${nodeIp(2)}`,
        async () => (await routerNextHops(lab.names.router, WEB)).join(',') === nodeIp(1),
        HOLD * 1000,
        20,
      );
      // A third of the hold time: only BFD (here 300 ms x 3 on each reflector) gets there.
      expect(Date.now() - t0).toBeLessThan((HOLD * 1000) / 3);
      const gobgp = await readFile(join(dir(), 'rr-gobgp', 'gobgpd.log'), 'utf8');
      const frr = await readFile(join(dir(), 'rr-frr', 'bgpd.log'), 'utf8');
      expect(gobgp).toMatch(/"Key":"10\.244\.2\.11"[^\n]*"BFD is down"/);
      expect(frr).toMatch(/sent to neighbor 10\.244\.2\.11 [^\n]*BFD Down/);
    });
  },
);
