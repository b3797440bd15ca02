import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { gobgpArgv, gobgpdArgv } from '../../src/lab/gobgp.js';
import { renderRrConfig } from '../../src/render/rr.js';
import { buildCli, createBench, LB, LB2, RR, sidecarConfig, until, VIP } from './bgp-harness.js';

/*
 * TCP-MD5 end to end, towards dynamic neighbors: the sidecar's exabgp and a route reflector share
 * a password file. FRR 8.4 and GoBGP v4 both key their listener for the LB range; a speaker with
 * the wrong key never gets a session.
 */

const exec = promisify(execFile);
let cli: string;

function md5Config(passwordFile: string) {
  const base = sidecarConfig();
  return {
    ...base,
    // The harness's router address lies in the node range: keep the LB range (with its key) apart.
    bgp: {
      ...base.bgp,
      peers: [{ address: RR, as: 65000, passwordFile }],
      policy: { listenRanges: ['10.77.0.0/29'] },
    },
  };
}

beforeAll(async () => {
  cli = await buildCli();
});

describe.each(['frr', 'gobgp'] as const)('bgp with TCP-MD5, %s route reflector', (flavor) => {
  const bench = createBench(`md5${flavor[0]}`);

  /** The next hops the route reflector holds for the VIP. */
  async function nextHops(): Promise<string[]> {
    const b = await bench;
    if (flavor === 'frr') return b.frrNextHops(VIP).catch(() => []);
    const { stdout } = await exec('ip', ['netns', 'exec', b.ns, ...gobgpArgv(['global', 'rib', '-j'])]).catch(
      () => ({ stdout: '{}' }),
    );
    type Attr = { type: number; nexthop?: string };
    const rib = JSON.parse(stdout || '{}') as Record<string, { attrs?: Attr[] }[]>;
    return (rib[VIP] ?? []).map((p) => p.attrs?.find((a) => a.type === 3)?.nexthop ?? '');
  }

  beforeAll(async () => {
    const b = await bench;
    await b.up();
    const secret = join(b.dir, 'md5.secret');
    await writeFile(secret, 'portlb-Md5-secret\n', { mode: 0o600 });
    const config = md5Config(secret);
    const text = renderRrConfig(parseConfig(config, {}), { flavor });
    if (flavor === 'frr') await b.startFrrRr(text);
    else {
      const file = join(b.dir, 'rr', 'gobgpd.toml');
      await writeFile(file, text);
      b.start(gobgpdArgv(file), 'gobgpd.log');
    }
    b.startBackend();
    await b.startSidecar(cli, config);
  });

  afterAll(async () => {
    await (await bench).down();
  });

  it('establishes the session and carries the route', async () => {
    const hops = await until('the route on the route reflector', nextHops, (h) => h.length > 0, 20_000);
    expect(hops).toEqual([LB]);
  });

  it('keeps out a speaker with the wrong password', async () => {
    const b = await bench;
    const wrong = join(b.dir, 'wrong.secret');
    await writeFile(wrong, 'not-the-password\n', { mode: 0o600 });
    const config = { ...md5Config(wrong), server: { listen: `${LB2}:9402` } };
    await b.startSidecar(cli, config, 'wrong', LB2);
    const ready = await until(
      'the wrong-password sidecar to be up and announcing',
      () => b.http('/readyz', `${LB2}:9402`).catch(() => ({ status: 0, body: '' })),
      (r) => r.body.includes('"announced":[{'),
    );
    await new Promise((r) => setTimeout(r, 3000)); // time enough for a session that would work
    expect(JSON.parse((await b.http('/readyz', `${LB2}:9402`)).body).reasons).toContainEqual(
      expect.stringMatching(/no BGP session is up/),
    );
    expect(ready.status).toBe(503);
    expect(await nextHops()).toEqual([LB]);
  });
});
