import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { renderRrConfig } from '../../src/render/rr.js';
import { BACKEND, buildCli, cmdline, createBench, LB, sidecarConfig, until, VIP } from './bgp-harness.js';

/*
 * The sidecar in bgp mode against real exabgp 4.2 and gobgpd: it announces only while healthy,
 * survives exabgp dying, and withdraws before it exits.
 */

const bench = await createBench('bgp');
let cli: string;
let backend: ReturnType<typeof bench.startBackend>;
let sidecar: Awaited<ReturnType<typeof bench.startSidecar>>;
let rr: Awaited<ReturnType<typeof bench.startGobgp>>;
let rrToml: string;

const hops = () => bench.nextHops(VIP);
/** The sidecar's exabgp, found among the namespace's processes. */
async function exabgpPid(): Promise<number> {
  const all = await Promise.all((await bench.pids()).map(async (pid) => ({ pid, cmd: await cmdline(pid) })));
  const found = all.find((p) => /python3? \S*exabgp /.test(p.cmd));
  if (found === undefined) throw new Error('no exabgp in the namespace');
  return found.pid;
}
const events = async (event: string) => (await bench.logEvents()).filter((e) => e.event === event);

beforeAll(async () => {
  cli = await buildCli();
  await bench.up();
  const config = parseConfig(sidecarConfig(), {});
  rrToml = renderRrConfig(config, { flavor: 'gobgp' });
  rr = await bench.startGobgp(rrToml);
  backend = bench.startBackend();
  await until(
    'gobgpd',
    () =>
      bench
        .nextHops(VIP)
        .then(() => true)
        .catch(() => false),
    Boolean,
  );
  sidecar = await bench.startSidecar(cli, sidecarConfig());
});

afterAll(async () => {
  await bench.down();
});

describe('bgp sidecar with exabgp and gobgpd', () => {
  it('announces the VIP with its node IP as next hop once healthy', async () => {
    expect(await until('the route on the RR', hops, (h) => h.length > 0)).toEqual([LB]);
    expect(await bench.paths(VIP)).toEqual([{ nextHop: LB, communities: [65000 * 65536 + 100] }]);
    const ready = await until(
      'readyz',
      () => bench.http('/readyz'),
      (r) => r.status === 200,
    );
    expect(JSON.parse(ready.body)).toMatchObject({
      ready: true,
      detail: { bgp: { peers: { '10.77.0.1': { state: 'up' } } } },
    });
    const metrics = (await bench.http('/metrics')).body;
    expect(metrics).toContain('portlb_bgp_session_up{peer="10.77.0.1"} 1');
    expect(metrics).toContain(`portlb_bgp_announced_routes{vip="${VIP}",next_hop="${LB}"} 1`);
  });

  it('withdraws when the health probe fails, and announces again when it passes', async () => {
    backend.child.kill('SIGKILL');
    await until('withdrawal', hops, (h) => h.length === 0);
    const [withdraw] = await events('withdraw');
    expect(withdraw).toMatchObject({ cause: 'unhealthy', vip: VIP, nextHop: LB });
    expect(String(withdraw?.reason)).toMatch(new RegExp(`health gate: .*${BACKEND}:8080.*ECONNREFUSED`));
    const ready = await bench.http('/readyz');
    expect(ready.status).toBe(503);
    expect(ready.body).toMatch(/service web not announced/);
    expect((await bench.http('/metrics')).body).toContain(
      'portlb_bgp_decisions_total{action="withdraw",cause="unhealthy"} 1',
    );

    backend = bench.startBackend();
    expect(await until('re-announcement', hops, (h) => h.length > 0)).toEqual([LB]);
  });

  it('restarts a killed exabgp and sends it the full set again', async () => {
    const exabgp = await exabgpPid();
    process.kill(exabgp, 'SIGKILL');
    await until('the route to go with exabgp', hops, (h) => h.length === 0, 5000);
    expect(await until('the route to come back', hops, (h) => h.length > 0)).toEqual([LB]);
    const [exited] = await events('exabgp_exited');
    expect(exited).toBeDefined();
    // The new exabgp got the whole set from the sidecar, not a delta from the loop.
    const resent = (await events('announce')).filter(
      (e) => e.cause === 'exabgp_start' && String(e.time) > String(exited?.time),
    );
    expect(resent).toHaveLength(1);
    expect((await bench.http('/metrics')).body).toContain('portlb_exabgp_starts_total{result="started"} 2');
  });

  it('reports a route reflector that is down, and re-sends the full set when the session returns', async () => {
    rr.child.kill('SIGKILL');
    await rr.exited;
    const metrics = await until(
      'the session to go down',
      async () => (await bench.http('/metrics')).body,
      (m) => m.includes('portlb_bgp_session_up{peer="10.77.0.1"} 0'),
    );
    expect(metrics).toContain('portlb_bgp_session_changes_total{peer="10.77.0.1",state="down"}');
    const ready = await bench.http('/readyz');
    expect(ready.status).toBe(503);
    expect(ready.body).toMatch(/no BGP session is up: 10.77.0.1 down/);
    const before = (await events('announce')).filter((e) => e.cause === 'session_up').length;
    rr = await bench.startGobgp(rrToml);
    // exabgp keeps dialling; when the session is up the sidecar re-sends the whole set to it.
    expect(
      await until(
        'the route on the new RR',
        () => hops().catch(() => []),
        (h) => h.length > 0,
        30_000,
      ),
    ).toEqual([LB]);
    const after = (await events('announce')).filter((e) => e.cause === 'session_up').length;
    expect(after).toBe(before + 1);
    expect((await bench.http('/readyz')).status).toBe(200);
  });

  it('kills and replaces an exabgp that stops answering', async () => {
    const exabgp = await exabgpPid();
    process.kill(exabgp, 'SIGSTOP'); // alive, session still up, but deaf
    backend.child.kill('SIGKILL'); // the withdraw this causes goes unanswered
    await until('the hung exabgp to be replaced', hops, (h) => h.length === 0, 15_000);
    const [kill] = await events('exabgp_kill');
    expect(String(kill?.reason)).toMatch(/did not acknowledge "withdraw route 10.1.1.0\/24/);
    await until(
      'a new exabgp',
      () => exabgpPid().catch(() => 0),
      (pid) => pid !== 0 && pid !== exabgp,
    );
    backend = bench.startBackend();
    expect(await until('re-announcement', hops, (h) => h.length > 0, 15_000)).toEqual([LB]);
  });

  it('withdraws on SIGTERM before it exits, then drains', async () => {
    expect(await hops()).toEqual([LB]);
    const signalled = Date.now();
    sidecar.child.kill('SIGTERM');
    await until('withdrawal on SIGTERM', hops, (h) => h.length === 0, 3000);
    const withdrawnAfter = Date.now() - signalled;
    expect(sidecar.child.exitCode, 'still draining when the route is gone').toBeNull();
    expect(await sidecar.exited).toBe(0);
    const exitedAfter = Date.now() - signalled;
    expect(withdrawnAfter).toBeLessThan(1500);
    expect(exitedAfter).toBeGreaterThanOrEqual(2000); // drain.seconds
    expect(await events('withdrawn')).toHaveLength(1);
    const left = await Promise.all((await bench.pids()).map(cmdline));
    expect(left.filter((c) => /exabgp|relay\.js|sidecar/.test(c))).toEqual([]);
  });

  it('takes exabgp (and so the route) down with it when the sidecar is killed outright', async () => {
    const crashed = await bench.startSidecar(cli, sidecarConfig(), 'crashed');
    await until('the route on the RR', hops, (h) => h.length > 0);
    crashed.child.kill('SIGKILL');
    // The relay loses the sidecar's socket and stops its exabgp, which sends a Cease to the RR.
    await until('withdrawal after the crash', hops, (h) => h.length === 0, 3000);
    const left = await until(
      'exabgp to exit',
      async () =>
        (await Promise.all((await bench.pids()).map(cmdline))).filter((c) => /exabgp|relay\.js/.test(c)),
      (l) => l.length === 0,
      5000,
    );
    expect(left).toEqual([]);
  });

  it('never re-announces a VIP whose health check failed while exabgp was down', async () => {
    // exabgp runs through a wrapper that holds each start while `hold` exists: the health check
    // fails while exabgp is down for certain, instead of racing its restart. Python, not sh: dash
    // drops the `exabgp.*` variables (dots in their names) that the sidecar sets for exabgp.
    const hold = join(bench.dir, 'exabgp.hold');
    const wrapper = join(bench.dir, 'held-wrapper.py');
    const script = [
      '#!/usr/bin/env python3',
      'import os, sys, time',
      `while os.path.exists(${JSON.stringify(hold)}): time.sleep(0.05)`,
      "os.execvp('exabgp', ['exabgp', *sys.argv[1:]])",
    ];
    await writeFile(wrapper, `${script.join('\n')}\n`, { mode: 0o755 });
    const config = sidecarConfig();
    const held = await bench.startSidecar(
      cli,
      { ...config, bgp: { ...config.bgp, exabgp: { command: wrapper } } },
      'held',
    );
    const heldEvents = async (event: string) =>
      (await bench.logEvents('held')).filter((e) => e.event === event);
    expect(await until('the route on the RR', hops, (h) => h.length > 0)).toEqual([LB]);

    await writeFile(hold, '');
    process.kill(await exabgpPid(), 'SIGKILL');
    const [gone] = await until(
      'exabgp to go',
      () => heldEvents('exabgp_disconnected'),
      (e) => e.length === 1,
    );
    await until('the route to go with exabgp', hops, (h) => h.length === 0, 5000);
    backend.child.kill('SIGKILL');
    // A run while exabgp is down drops the VIP from what the next exabgp will be told.
    const [dropped] = await until(
      'the VIP to be dropped while exabgp is down',
      () => heldEvents('delete'),
      (e) => e.length === 1,
    );
    expect(String(dropped?.reason)).toMatch(/target is unhealthy: health gate: .*ECONNREFUSED/);
    expect(await heldEvents('exabgp_connected')).toHaveLength(1);

    await rm(hold);
    const sessionsUp = async () => (await heldEvents('session')).filter((e) => e.state === 'up');
    let seen: string[] = [];
    await until(
      'a session from the new exabgp, the VIP never on the RR meanwhile',
      async () => {
        seen = [...seen, ...(await hops())];
        return sessionsUp();
      },
      (up) => up.length === 2,
      30_000,
    );
    expect(seen).toEqual([]);
    expect(await heldEvents('exabgp_connected')).toHaveLength(2);
    // exabgp was never told to announce it again, nor did any run fail while it was down.
    const after = (e: Record<string, unknown>) => String(e.time) > String(gone?.time);
    expect((await heldEvents('announce')).filter(after)).toEqual([]);
    expect((await heldEvents('reconcile_failed')).filter(after)).toEqual([]);

    // The new exabgp works: the VIP comes back once healthy, and goes on SIGTERM.
    backend = bench.startBackend();
    expect(await until('re-announcement', hops, (h) => h.length > 0)).toEqual([LB]);
    held.child.kill('SIGTERM');
    expect(await held.exited).toBe(0);
    expect(await hops()).toEqual([]);
  });

  it('says clearly when exabgp is missing, and keeps trying', async () => {
    const config = sidecarConfig({ server: { listen: `${LB}:9403` } });
    const broken = { ...config, bgp: { ...config.bgp, exabgp: { command: '/nonexistent/exabgp' } } };
    const missing = await bench.startSidecar(cli, broken, 'missing');
    const ready = await until(
      'readyz',
      () => bench.http('/readyz', `${LB}:9403`).catch(() => ({ status: 0, body: '' })),
      (r) => /exabgp not found/.test(r.body),
    );
    expect(ready.status).toBe(503);
    await until(
      'a retry',
      async () => (await bench.logEvents('missing')).filter((e) => e.event === 'exabgp_exited').length,
      (n) => n >= 2,
    );
    missing.child.kill('SIGTERM');
    expect(await missing.exited).toBe(0);
  });
});
