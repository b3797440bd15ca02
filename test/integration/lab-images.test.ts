import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labCurl } from '../../src/lab/curl.js';
import { waitFor } from '../../src/lab/daemons.js';
import { routerNextHops } from '../../src/lab/fib.js';
import { labImages } from '../../src/lab/images.js';
import { type Lab, labUp } from '../../src/lab/lab.js';
import { stopLb } from '../../src/lab/lb.js';
import type { LabLb } from '../../src/lab/state.js';
import { podmanUnusable, run } from '../deploy/support.js';
import { labRunDir, labUnavailable } from './lab-helpers.js';

/*
 * `lab up --images`: the LB pods' sidecar and data plane are the images scripts/build-images.sh
 * builds, run by podman in the pods' namespaces as the manifests run them, and the lab works the
 * same through them: announced to the router, requests served, a graceful stop withdrawn.
 */
const env = { ...process.env, CONTAINERS_CONF: resolve('deploy/image/containers.conf') };
const unavailable = labUnavailable() ?? (await podmanUnusable(env));
const PREFIX = 'plbm-';
const WEB = '10.1.1.0/24';
const quiet = () => {};

const containers = async () => {
  const listed = await run(
    'podman',
    ['ps', '--all', '--filter', `label=io.portlb.lab=${PREFIX}`, '--format', '{{.Names}} {{.Image}}'],
    env,
  );
  return listed.stdout.split('\n').filter(Boolean).sort();
};

describe.skipIf(unavailable !== undefined)('lab up --images', () => {
  let lab: Lab;
  let dir: Awaited<ReturnType<typeof labRunDir>>;
  const images = labImages();
  const lb = (id: string) => lab.store.state.lbs.find((l) => l.id === id) as LabLb;

  beforeAll(async () => {
    // Builds what is missing or stale; seconds when scripts/setup.sh already built them.
    const build = await run('scripts/build-images.sh', [], env);
    if (build.code !== 0) throw new Error(`scripts/build-images.sh failed:\n${build.stderr.slice(-4000)}`);
    dir = await labRunDir('images');
    lab = await labUp({
      dir: dir.dir,
      prefix: PREFIX,
      nodes: 2,
      lbs: 2,
      backends: 2,
      holdTime: 3,
      drainSeconds: 1,
      images: true,
      progress: quiet,
    });
  }, 900_000);
  afterAll(async () => {
    await dir?.remove();
  });

  it('runs every LB pod’s sidecar and data plane from its image, as its pod spec does', async () => {
    expect(await containers()).toEqual([
      `${PREFIX}web-1-dataplane ${images.portlb}`,
      `${PREFIX}web-1-sidecar ${images.exabgp}`,
      `${PREFIX}web-2-dataplane ${images.portlb}`,
      `${PREFIX}web-2-sidecar ${images.exabgp}`,
    ]);
    // As deploy/k8s/base/lb.yaml: the data plane is root because it adds a capability.
    for (const [role, expected] of [
      ['sidecar', '65532:65532 true []'],
      ['dataplane', '0:0 true [CAP_NET_ADMIN]'],
    ] as const) {
      const inspected = await run(
        'podman',
        [
          'inspect',
          '--format',
          '{{.Config.User}} {{.HostConfig.ReadonlyRootfs}} {{.HostConfig.CapAdd}}',
          `${PREFIX}web-1-${role}`,
        ],
        env,
      );
      expect(inspected.stdout.trim(), role).toBe(expected);
    }
  });

  it('serves requests through the VIP from both LBs', async () => {
    const answers = await labCurl(lab, 'web', 24);
    expect(answers.map((a) => a.status)).toEqual(Array(24).fill(200));
    expect(new Set(answers.map((a) => a.lb))).toEqual(new Set(['web-1', 'web-2']));
  });

  it('a graceful stop withdraws from the router, and the pod’s containers go', async () => {
    await stopLb(lab.store, lab.names, lb('web-2'));
    await waitFor(
      'the router to leave node2',
      async () => (await routerNextHops(lab.names.router, WEB)).length === 1,
      10_000,
    );
    expect(await routerNextHops(lab.names.router, WEB)).toEqual(['10.99.0.11']);
    const log = await readFile(join(lab.store.dir, 'lbs', 'web-2', 'sidecar.log'), 'utf8');
    expect(log).toMatch(/"event":"withdrawn"/);
    expect((await containers()).filter((c) => c.includes('web-2'))).toEqual([]);
  });

  it('lab down removes every container it started', async () => {
    await dir.remove();
    expect(await containers()).toEqual([]);
  });
});
