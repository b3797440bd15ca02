import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { shippedCli } from '../../src/system/shipped.js';
import {
  allContainers,
  container,
  kustomize,
  lbDeployment,
  nodeAgentDaemonSet,
  overlayDir,
  podSpec,
  VERSION,
} from './support.js';

/*
 * deploy/image/Containerfile and scripts/build-images.sh, read: the image runs what `npm run build`
 * makes, the way its shebang says, with what the modes call, as the user the manifests expect.
 * test/integration/images-run.test.ts builds the images and runs them.
 */

/** The Containerfile's instructions, one per entry, continuation lines joined. */
async function instructions(): Promise<{ op: string; args: string }[]> {
  const text = await readFile('deploy/image/Containerfile', 'utf8');
  return text
    .replace(/\\\n\s*/g, ' ')
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.trimStart().startsWith('#'))
    .map((line) => {
      const [op = '', ...rest] = line.trim().split(/\s+/);
      return { op: op.toUpperCase(), args: rest.join(' ') };
    });
}

const script = () => readFile('scripts/build-images.sh', 'utf8');

describe('deploy/image/Containerfile', () => {
  it('runs the bundle with the V8 flags of its shebang', async () => {
    const entrypoint = (await instructions()).filter((i) => i.op === 'ENTRYPOINT').at(-1);
    const argv = JSON.parse(entrypoint?.args ?? '[]') as string[];
    const { flags } = shippedCli(import.meta.url);
    expect(argv).toEqual(['node', ...flags, '/opt/portlb/portlb.mjs']);
  });

  it('copies exactly what build-images.sh stages: Node 24 from node@24 and the bundle npm run build writes', async () => {
    const copies = (await instructions()).filter((i) => i.op === 'COPY').map((i) => i.args);
    expect(copies).toEqual(['node /usr/local/bin/node', 'cli/ /opt/portlb/']);
    const text = await script();
    expect(text).toContain('cp -f node_modules/node/bin/node "$context/node"');
    expect(text).toContain('cp -r dist/cli "$context/cli"');
    expect(text).toContain('node_modules/node/bin/node scripts/build-cli.mjs');
    const pkg = JSON.parse(await readFile('package.json', 'utf8')) as {
      scripts: Record<string, string>;
      devDependencies: Record<string, string>;
    };
    expect(pkg.scripts.build).toContain('node scripts/build-cli.mjs');
    expect(pkg.devDependencies.node).toMatch(/^24\./);
  });

  it('brings what the containers call: ip (node agent), nft and conntrack (data plane); exabgp and FRR (bfdd) in the bgp image', async () => {
    const steps = await instructions();
    expect(steps).toContainEqual({ op: 'ARG', args: 'PACKAGES=iproute2' });
    expect(steps.find((s) => s.op === 'RUN')?.args).toMatch(
      /apt-get install -y --no-install-recommends \$\{PACKAGES\}/,
    );
    const builds = [...(await script()).matchAll(/^build "\$(\w+)" '?([^'\n]+)'?$/gm)].map(
      ([, image, packages]) => [image, packages],
    );
    expect(builds).toEqual([
      ['PORTLB_IMAGE', 'iproute2 nftables conntrack iputils-ping procps'],
      ['EXABGP_IMAGE', 'iproute2 exabgp frr'],
    ]);
    // And the manifests run each container from the image that has what it calls.
    const objects = await kustomize(overlayDir('onprem-bgp'));
    const images = Object.fromEntries(allContainers(lbDeployment(objects)).map((c) => [c.name, c.image]));
    expect(images).toEqual({
      dataplane: `localhost/portlb:${VERSION}`,
      bfdd: `localhost/portlb-exabgp:${VERSION}`,
      portlb: `localhost/portlb-exabgp:${VERSION}`,
    });
  });

  it('runs as the uid the manifests run it as, which has a passwd entry (os.userInfo needs one)', async () => {
    const steps = await instructions();
    expect(steps.filter((s) => s.op === 'USER').map((s) => s.args)).toEqual(['65532:65532']);
    expect(steps.find((s) => s.op === 'RUN')?.args).toContain('useradd --system --uid 65532 --gid 65532');
    const objects = await kustomize(overlayDir('onprem-bgp'));
    expect(podSpec(lbDeployment(objects)).securityContext?.runAsUser).toBe(65532);
    // Root only where capabilities are added (test/deploy/k8s.test.ts says why): the node agent,
    // and in the LB pods the data plane and bfdd.
    expect(container(nodeAgentDaemonSet(objects), 'node-agent').securityContext?.runAsUser).toBe(0);
  });
});
