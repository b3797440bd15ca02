import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addBackend, removeBackend } from '../../src/lab/backends.js';
import { labCurl, serviceAddress } from '../../src/lab/curl.js';
import { waitFor } from '../../src/lab/daemons.js';
import { injectFault } from '../../src/lab/faults.js';
import { routerNextHops } from '../../src/lab/fib.js';
import { type Lab, labUp } from '../../src/lab/lab.js';
import { dataPlaneReadyz, stopLb } from '../../src/lab/lb.js';
import type { LabLb } from '../../src/lab/state.js';
import { dataPlaneSummary } from '../../src/lab/status.js';
import { failed, readResults, startAttack, vegetaBinary } from '../../src/lab/vegeta.js';
import { parseAnswer } from '../../src/lab/web.js';
import { labRunDir, labUnavailable } from './lab-helpers.js';

/*
 * Real requests in the lab: vegeta in the client namespace -> the router (FRR, ECMP on the L4
 * hash) -> a node -> an LB pod (the nftables data plane, source NAT) -> nginx, and back. A short
 * version of `npm run bench:traffic`: what it proves, not how fast.
 */
const unavailable =
  labUnavailable() ??
  (existsSync(vegetaBinary()) ? undefined : 'vegeta is not built (scripts/build-vegeta.sh)');
const WEB = '10.1.1.0/24';
const NODE1 = '10.99.0.11';
const NODE2 = '10.99.0.12';
const quiet = () => {};

describe.skipIf(unavailable !== undefined)('lab: real requests through the VIP', () => {
  let lab: Lab;
  let run: Awaited<ReturnType<typeof labRunDir>>;
  const lb = (id: string) => lab.store.state.lbs.find((l) => l.id === id) as LabLb;
  const hops = () => routerNextHops(lab.names.router, WEB);

  beforeAll(async () => {
    run = await labRunDir('traffic');
    lab = await labUp({
      dir: run.dir,
      prefix: 'plbr-',
      nodes: 2,
      lbs: 2,
      backends: 2,
      holdTime: 3,
      drainSeconds: 2,
      progress: quiet,
    });
  });
  afterAll(async () => {
    await run?.remove();
  });

  it('a request through the VIP reaches a backend through an LB; every LB and backend answers some', async () => {
    const answers = await labCurl(lab, 'web', 24);
    expect(answers.map((a) => a.status)).toEqual(Array(24).fill(200));
    // The backend saw the LB pod's address (source NAT), so each answer names both.
    expect(new Set(answers.map((a) => a.lb))).toEqual(new Set(['web-1', 'web-2']));
    expect(new Set(answers.map((a) => a.backend))).toEqual(new Set(['web1', 'web2']));
  });

  it('nft failing keeps the old rules and the LB announced; with nothing left to serve it withdraws', async () => {
    await injectFault(lab, 'web-1', 'nft-fails');
    const web3 = await addBackend(lab, quiet);
    expect(dataPlaneSummary(await dataPlaneReadyz(lab.names, lb('web-1')))).toMatch(
      /^rules: DEGRADED: nftables: the last write failed and the previous rules still serve: .*injected by portlb lab/,
    );
    expect(dataPlaneSummary(await dataPlaneReadyz(lab.names, lb('web-2')))).toBe(
      'rules: ok (web 3 backend(s))',
    );
    await sleep(1500); // three probe intervals: its probe still passes through the old rules
    expect(await hops()).toEqual([NODE1, NODE2]);
    const answers = await labCurl(lab, 'web', 24);
    expect(answers.every((a) => a.status === 200)).toBe(true);
    // web-1's rules are the old ones: it never sends to the new backend.
    expect(answers.filter((a) => a.lb === 'web-1').map((a) => a.backend)).not.toContain(`web${web3}`);

    await injectFault(lab, 'web-1', 'flush');
    await waitFor('web-1 to withdraw', async () => (await hops()).join() === NODE2, 15_000);
    await injectFault(lab, 'web-1', 'clear');
    await waitFor('web-1 to announce again', async () => (await hops()).length === 2, 20_000);
    await removeBackend(lab, `web${web3}`, quiet);
  });

  it('a graceful LB stop during a steady request stream fails no request', async () => {
    const url = `http://${serviceAddress(lab.store.state, 'web')}/`;
    const common = { ns: lab.names.client, url, timeoutS: 5, maxBody: 64, dir: run.dir };
    const streams = [
      await startAttack({ ...common, name: 'new', rate: 50, keepalive: false }),
      await startAttack({ ...common, name: 'keepalive', rate: 50, keepalive: true, connections: 8 }),
    ];
    await sleep(2000);
    const exited = await stopLb(lab.store, lab.names, lb('web-2'));
    await sleep(1500);
    for (const s of streams) await s.stop();

    expect(exited).toBeDefined();
    expect(await hops()).toEqual([NODE1]);
    const results = (await Promise.all(streams.map((s) => readResults(s.resultsFile)))).flat();
    expect(results.length).toBeGreaterThan(300);
    expect(results.filter(failed)).toEqual([]);
    const via = (r: (typeof results)[number]) => parseAnswer(r.body)?.from;
    // Both LBs served the stream, and after web-2 had gone no request reached it.
    expect(results.some((r) => via(r) === lb('web-2').podIp)).toBe(true);
    expect(results.filter((r) => r.start > (exited ?? 0) && via(r) === lb('web-2').podIp)).toEqual([]);
    const log = await readFile(join(run.dir, 'lbs', 'web-2', 'sidecar.log'), 'utf8');
    expect(log).toMatch(/"event":"withdraw_confirmed"/);
  });
});
