import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { gobgpArgv, gobgpdArgv } from '../../src/lab/gobgp.js';
import { renderRouterConfig } from '../../src/render/router.js';
import { renderRrConfig } from '../../src/render/rr.js';
import { buildCli, createBench, LB, RR, sidecarConfig, until, VIP } from './bgp-harness.js';

/*
 * A hold time of 0 (RFC 4271: no keepalives, a session that never expires; allowed with
 * bgp.allowLongHoldTime) renders `hold-time 0` for exabgp, `timers 0 0` for FRR and
 * `hold-time = 0` for GoBGP. The check modes accept those (bgp-render.test.ts); this runs them:
 * the LB's exabgp, each route reflector flavour and the FRR router bring their sessions up, carry
 * the VIP to the router, and negotiate a hold time of 0 on every session.
 */

const exec = promisify(execFile);
const ROUTER = '10.77.0.9';
let cli: string;

const config = () => {
  const base = sidecarConfig();
  return {
    ...base,
    bgp: {
      ...base.bgp,
      holdTime: 0,
      allowLongHoldTime: true,
      peers: base.bgp.peers.map((p) => ({ ...p, holdTime: 0 })),
    },
  };
};

beforeAll(async () => {
  cli = await buildCli();
});

describe.each(['gobgp', 'frr'] as const)('hold time 0 through a %s route reflector', (flavor) => {
  const bench = createBench(`hold0${flavor[0]}`);
  const vty = (b: Awaited<typeof bench>, who: 'rr' | 'router') => join(b.dir, who);

  /** FRR's view of one neighbor: state, the negotiated timers, keepalives received. */
  async function frrNeighbor(who: 'rr' | 'router', peer: string) {
    const b = await bench;
    const { stdout } = await exec('ip', [
      'netns',
      'exec',
      b.ns,
      'vtysh',
      '--vty_socket',
      vty(b, who),
      '-c',
      `show bgp neighbors ${peer} json`,
    ]).catch(() => ({ stdout: '{}' }));
    type Neighbor = {
      bgpState?: string;
      bgpTimerHoldTimeMsecs?: number;
      bgpTimerKeepAliveIntervalMsecs?: number;
      messageStats?: { keepalivesRecv?: number };
    };
    const n = (JSON.parse(stdout || '{}') as Record<string, Neighbor>)[peer] ?? {};
    return {
      up: n.bgpState === 'Established',
      hold: n.bgpTimerHoldTimeMsecs,
      keepalive: n.bgpTimerKeepAliveIntervalMsecs,
      keepalives: n.messageStats?.keepalivesRecv,
    };
  }

  /** GoBGP's view of one neighbor (its API's JSON: a zero value is left out, as protobuf does). */
  async function gobgpNeighbor(peer: string) {
    const b = await bench;
    const { stdout } = await exec('ip', [
      'netns',
      'exec',
      b.ns,
      ...gobgpArgv(['neighbor', peer, '-j']),
    ]).catch(() => ({ stdout: '{}' }));
    type Peer = {
      state?: { session_state?: number; messages?: { received?: { keepalive?: number } } };
      timers?: { state?: { negotiated_hold_time?: number } };
    };
    const p = JSON.parse(stdout || '{}') as Peer;
    const up = p.state?.session_state === 6; // ESTABLISHED
    return {
      up,
      hold: up ? (p.timers?.state?.negotiated_hold_time ?? 0) : undefined,
      keepalives: p.state?.messages?.received?.keepalive ?? 0,
    };
  }

  /** The RR's session to a peer: established, the hold time it negotiated, keepalives it received. */
  const rrSession = (
    peer: string,
  ): Promise<{ up: boolean; hold: number | undefined; keepalives: number | undefined }> =>
    flavor === 'frr' ? frrNeighbor('rr', peer) : gobgpNeighbor(peer);

  /** After a session is up, no keepalive arrives: with a hold time of 0 none is sent (RFC 4271 4.4). */
  async function expectNoKeepalives(read: () => Promise<{ up: boolean; keepalives: number | undefined }>) {
    const before = await read();
    await new Promise((r) => setTimeout(r, 4000)); // with the harness's usual 9 s hold: one every 3 s
    const after = await read();
    expect(after.up).toBe(true);
    expect(after.keepalives).toBe(before.keepalives);
  }

  beforeAll(async () => {
    const b = await bench;
    await b.up();
    await exec('ip', ['-n', b.ns, 'addr', 'add', `${ROUTER}/32`, 'dev', 'lo']);
    const parsed = parseConfig(config(), {});
    const rr = renderRrConfig(parsed, { flavor });
    // One loopback holds every address here, so the router must say which is its own; on a real
    // link the kernel picks it.
    const router = renderRouterConfig(parsed).replace(
      ` neighbor ${RR} timers connect 1`,
      ` neighbor ${RR} timers connect 1\n neighbor ${RR} update-source ${ROUTER}`,
    );
    for (const who of ['rr', 'router'] as const) await mkdir(vty(b, who), { recursive: true });
    if (flavor === 'gobgp') {
      const file = join(b.dir, 'rr', 'gobgpd.toml');
      await writeFile(file, rr);
      b.start(gobgpdArgv(file), 'gobgpd.log');
    } else {
      const file = join(b.dir, 'rr', 'bgpd.conf');
      await writeFile(file, rr);
      const pid = join(b.dir, 'rr', 'bgpd.pid');
      b.start(
        ['/usr/lib/frr/bgpd', '-Z', '-S', '-l', RR, '-f', file, '-i', pid, '--vty_socket', vty(b, 'rr')],
        'rr.log',
      );
    }
    // The upstream router: its own bgpd on its own address, beside the RR in the namespace.
    const routerFile = join(b.dir, 'router', 'bgpd.conf');
    await writeFile(routerFile, router);
    const routerPid = join(b.dir, 'router', 'bgpd.pid');
    b.start(
      [
        '/usr/lib/frr/bgpd',
        '-Z',
        '-S',
        '-l',
        ROUTER,
        '-f',
        routerFile,
        '-i',
        routerPid,
        '--vty_socket',
        vty(b, 'router'),
      ],
      'router.log',
    );
    b.startBackend();
    await b.startSidecar(cli, config());
  });

  afterAll(async () => {
    await (await bench).down();
  });

  it('the LB session comes up with a negotiated hold time of 0, and carries no keepalives', async () => {
    const session = await until(
      'the LB session on the RR',
      () => rrSession(LB),
      (s) => s.up,
      30_000,
    );
    expect(session.hold).toBe(0);
    await expectNoKeepalives(() => rrSession(LB));
  });

  it('the RR-router session too, and the router gets the VIP from the LB', async () => {
    const session = await until(
      'the router session on the RR',
      () => rrSession(ROUTER),
      (s) => s.up,
      30_000,
    );
    expect(session.hold).toBe(0);
    expect(await frrNeighbor('router', RR)).toMatchObject({ up: true, hold: 0, keepalive: 0 });
    await expectNoKeepalives(() => frrNeighbor('router', RR));
    const b = await bench;
    const hops = await until(
      'the VIP on the router',
      async () => {
        const { stdout } = await exec('ip', [
          'netns',
          'exec',
          b.ns,
          'vtysh',
          '--vty_socket',
          vty(b, 'router'),
          '-c',
          'show ip bgp json',
        ]).catch(() => ({ stdout: '{}' }));
        const table = JSON.parse(stdout || '{}') as {
          routes?: Record<string, { nexthops?: { ip?: string }[] }[]>;
        };
        return (table.routes?.[VIP] ?? []).flatMap((p) => (p.nexthops ?? []).map((n) => n.ip ?? ''));
      },
      (h) => h.length > 0,
      30_000,
    );
    expect(hops).toEqual([LB]);
  });
});
