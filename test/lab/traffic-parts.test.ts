import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { confirmScript, lbConfigInput, lbEnv } from '../../src/lab/config.js';
import { parseCurl, serviceAddress } from '../../src/lab/curl.js';
import type { LabState, StateStore } from '../../src/lab/state.js';
import { failed, parseGoTime, parseResult } from '../../src/lab/vegeta.js';
import { nginxConf, parseAnswer, unsentBytes } from '../../src/lab/web.js';
import { exec } from '../../src/system/exec.js';
import { expectGolden } from '../render/golden.js';

const state = {
  services: [
    { name: 'web', vip: '10.1.1.0/24' },
    { name: 'api', vip: '10.1.2.0/24' },
  ],
  lbs: [
    { id: 'web-1', service: 'web', node: 1, slot: 1, podIp: '10.244.1.11', configFile: '/x' },
    { id: 'web-2', service: 'web', node: 2, slot: 1, podIp: '10.244.2.11', configFile: '/y' },
  ],
} as unknown as LabState;

describe('the lab’s backends and what they answer', () => {
  it('renders nginx’s config (checked by the real nginx in the lab tests)', () => {
    const store = { dir: '/run/portlb-lab', state } as unknown as StateStore;
    expectGolden('lab-nginx-web2.conf', nginxConf(store, 2));
  });

  it.each([
    ['web1 10.244.1.11\n', { backend: 'web1', from: '10.244.1.11' }],
    ['web12 10.244.3.12', { backend: 'web12', from: '10.244.3.12' }],
    ['<html>502 Bad Gateway</html>', undefined],
    ['', undefined],
  ])('%j -> %o', (body, want) => {
    expect(parseAnswer(body)).toEqual(want);
  });

  it('names who answered each of curl’s requests, and the ones that failed', () => {
    const out = 'web1 10.244.2.11\n\t200\nweb2 10.244.1.11\n\t200\n\t000\nweb2 10.99.9.9\n\t200\n';
    expect(parseCurl(state, out)).toEqual([
      { status: 200, backend: 'web1', from: '10.244.2.11', lb: 'web-2', node: 'node2' },
      { status: 200, backend: 'web2', from: '10.244.1.11', lb: 'web-1', node: 'node1' },
      { status: 0 },
      { status: 200, backend: 'web2', from: '10.99.9.9' },
    ]);
  });

  it('asks a service at the first address of its VIP range', () => {
    expect(serviceAddress(state, 'api')).toBe('10.1.2.1');
    expect(() => serviceAddress(state, 'nope')).toThrow(/no service nope/);
  });
});

describe('a leaving backend’s sockets', () => {
  it.each([
    ['', 0],
    ['ESTAB      0      0      10.98.0.21:80 10.244.1.11:40522\n', 0],
    // Only the FIN (it takes a sequence number): nothing for a client.
    ['FIN-WAIT-1 0      1      10.98.0.21:80 10.244.1.11:40522\n', 0],
    [
      'FIN-WAIT-1 0      65161  10.98.0.21:80 10.244.1.11:40522\nLAST-ACK 0 1 10.98.0.21:80 10.244.2.11:1\n',
      65160,
    ],
    ['0      2896   10.98.0.21:80 10.244.1.11:40522\n', 2896],
  ])('%j: %d bytes still to send', (listing, bytes) => {
    expect(unsentBytes(listing)).toBe(bytes);
  });
});

describe('vegeta’s results', () => {
  it.each([
    ['2026-12-01T09:43:32.201057281Z', Date.UTC(2026, 11, 1, 9, 43, 32) + 201.057],
    ['2026-12-01T09:43:32Z', Date.UTC(2026, 11, 1, 9, 43, 32)],
    ['2026-12-01T10:43:32.5+01:00', Date.UTC(2026, 11, 1, 9, 43, 32) + 500],
  ])('reads Go’s time %s', (text, ms) => {
    expect(parseGoTime(text)).toBeCloseTo(ms, 3);
  });

  it('reads one result, and counts errors and non-200 answers as failed', () => {
    const ok = parseResult(
      '{"attack":"new","seq":0,"code":200,"timestamp":"2026-12-01T09:43:32.2Z","latency":4921082,"bytes_out":0,"bytes_in":17,"error":"","body":"d2ViMSAxMC4yNDQuMS4xMQo=","method":"GET","url":"http://10.1.1.1/","headers":{}}',
    );
    expect(ok).toMatchObject({ attack: 'new', code: 200, latencyMs: 4.921082, body: 'web1 10.244.1.11\n' });
    expect(failed(ok)).toBe(false);
    expect(failed({ ...ok, code: 0, error: 'read: connection reset by peer' })).toBe(true);
    expect(failed({ ...ok, code: 502 })).toBe(true);
    expect(
      parseResult(
        '{"attack":"bulk","code":0,"timestamp":"2026-12-01T09:43:32Z","latency":1,"bytes_in":0,"error":"x","body":null}',
      ).body,
    ).toBe('');
  });
});

describe('the router’s FIB as the LBs’ withdraw confirmation', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'portlb-confirm-'));
    await writeFile(join(dir, 'confirm.sh'), confirmScript('plb-router'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  /** Runs the script with an `ip` that prints `routes` (or fails), as the router's table. */
  async function exitOf(routes: string | undefined, nextHop: string): Promise<number> {
    const ip = join(dir, 'ip');
    await writeFile(
      ip,
      routes === undefined ? '#!/bin/sh\nexit 1\n' : `#!/bin/sh\nprintf '%s' '${routes}'\n`,
    );
    await chmod(ip, 0o755);
    const env = {
      ...process.env,
      PATH: `${dir}:${process.env.PATH}`,
      PORTLB_VIP: '10.1.1.0/24',
      PORTLB_NEXT_HOP: nextHop,
    };
    return exec(['/bin/sh', join(dir, 'confirm.sh')], { env }).then(
      () => 0,
      (e: { exitCode: number }) => e.exitCode,
    );
  }

  const multipath =
    '10.1.1.0/24 nhid 35 proto bgp metric 20 \\\tnexthop via 10.99.0.11 dev eth0 weight 1 \\\tnexthop via 10.99.0.12 dev eth0 weight 1\n';
  it.each([
    ['still a next hop of a multipath route', multipath, '10.99.0.11', 1],
    [
      'the only next hop',
      '10.1.1.0/24 nhid 30 via 10.99.0.11 dev eth0 proto bgp metric 20\n',
      '10.99.0.11',
      1,
    ],
    ['gone from it', multipath, '10.99.0.13', 0],
    ['a longer address is another one', multipath.replace('10.99.0.12', '10.99.0.111'), '10.99.0.1', 0],
    ['no route at all', '', '10.99.0.11', 0],
    ['the router cannot be asked', undefined, '10.99.0.11', 2],
  ])('%s', async (_name, routes, nextHop, code) => {
    expect(await exitOf(routes, nextHop)).toBe(code);
  });
});

describe('the config every LB pod of the lab runs with', () => {
  const lab = { ...state, prefix: 'plb-', nodes: 2, backends: [1, 2], holdTime: 3 } as LabState;
  const lb = state.lbs[0] as LabState['lbs'][number];

  it.each([
    ['with the withdraw confirmed from the router', lab, ['/bin/sh', '/run/portlb-lab/confirm-withdrawn.sh']],
    ['without (the ablation)', { ...lab, confirmWithdraw: false } as LabState, undefined],
  ])('passes the sidecar’s own validation, %s', (_name, labState, command) => {
    const config = parseConfig(lbConfigInput('/run/portlb-lab', labState, lb), lbEnv(lb), 'lb.yaml');
    expect(config.health).toMatchObject({ probe: { type: 'http', through: 'vip' } });
    expect(config.dataPlane).toMatchObject({ kind: 'nftables', forwarding: 'nat' });
    expect(config.services.map((s) => s.backends)).toMatchObject([
      { static: [{ address: '10.98.0.21' }, { address: '10.98.0.22' }] },
    ]);
    if (config.bgp === undefined) throw new Error('no bgp section');
    expect(config.bgp.shutdown.confirm?.command).toEqual(command);
    expect(config.bgp.shutdown.nextHopWaitSeconds).toBe(10);
  });
});
