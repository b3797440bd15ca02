import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { renderRrConfig } from '../../src/render/rr.js';
import { buildCli, createBench, LB, LB2, RR, sidecarConfig, until, VIP } from './bgp-harness.js';

/* TCP-MD5 end to end: the sidecar's exabgp and FRR's route reflector share a password file. */

const bench = await createBench('md5');
let cli: string;

function md5Config(passwordFile: string) {
  const base = sidecarConfig();
  return { ...base, bgp: { ...base.bgp, peers: [{ address: RR, as: 65000, passwordFile }] } };
}

beforeAll(async () => {
  cli = await buildCli();
  await bench.up();
  const secret = join(bench.dir, 'md5.secret');
  await writeFile(secret, 'portlb-Md5-secret\n', { mode: 0o600 });
  const config = md5Config(secret);
  await bench.startFrrRr(renderRrConfig(parseConfig(config, {}), { flavor: 'frr' }));
  bench.startBackend();
  await bench.startSidecar(cli, config);
});

afterAll(async () => {
  await bench.down();
});

describe('bgp with TCP-MD5', () => {
  it('establishes the session and carries the route to an FRR route reflector', async () => {
    const hops = await until(
      'the route on the FRR RR',
      () => bench.frrNextHops(VIP).catch(() => []),
      (h) => h.length > 0,
      20_000,
    );
    expect(hops).toEqual([LB]);
  });

  it('keeps out a speaker with the wrong password', async () => {
    const wrong = join(bench.dir, 'wrong.secret');
    await writeFile(wrong, 'not-the-password\n', { mode: 0o600 });
    const config = { ...md5Config(wrong), server: { listen: `${LB2}:9402` } };
    await bench.startSidecar(cli, config, 'wrong', LB2);
    const ready = await until(
      'the wrong-password sidecar to be up and announcing',
      () => bench.http('/readyz', `${LB2}:9402`).catch(() => ({ status: 0, body: '' })),
      (r) => r.body.includes('"announced":[{'),
    );
    await new Promise((r) => setTimeout(r, 3000)); // time enough for a session that would work
    expect(JSON.parse((await bench.http('/readyz', `${LB2}:9402`)).body).reasons).toContainEqual(
      expect.stringMatching(/no BGP session is up/),
    );
    expect(ready.status).toBe(503);
    expect(await bench.frrNextHops(VIP)).toEqual([LB]);
  });
});
