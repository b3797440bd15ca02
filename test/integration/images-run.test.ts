import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { V1Container, V1DaemonSet, V1Deployment } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { parseConfig } from '../../src/config/load.js';
import { renderRrConfig } from '../../src/render/rr.js';
import { shippedCli } from '../../src/system/shipped.js';
import {
  container,
  kustomize,
  lbDeployment,
  nodeAgentDaemonSet,
  OVERLAYS,
  overlayDir,
  podSpec,
  run,
  VERSION,
} from '../deploy/support.js';
import { createBench, LB, sidecarConfig, until, VIP } from './bgp-harness.js';

/*
 * The images scripts/build-images.sh builds here (podman + runc, a debootstrap base, no
 * registry), run the way the manifests run them: the flags below are made from the rendered
 * pod specs (user, read-only root, capabilities, volumes), not written by hand. The bgp sidecar
 * runs in a network namespace with a real gobgpd route reflector; the node agent's container
 * writes a route in a namespace of its own (never the host's).
 */

const CONTAINERS_CONF = resolve('deploy/image/containers.conf');
const PORTLB_IMAGE = `localhost/portlb:${VERSION}`;
const EXABGP_IMAGE = `localhost/portlb-exabgp:${VERSION}`;
const env = { ...process.env, CONTAINERS_CONF };
const podman = (...args: string[]) => run('podman', args, env);

/** Why podman cannot run containers on this machine, or undefined when it can. */
async function podmanUnusable(): Promise<string | undefined> {
  const which = await run('sh', ['-c', 'command -v podman runc']);
  // Not installed is a setup failure, not a reason to skip: scripts/setup.sh installs them.
  if (which.code !== 0) throw new Error('podman or runc is missing: run scripts/setup.sh (it installs them)');
  const info = await podman('info', '--format', '{{.Host.OCIRuntime.Name}}');
  return info.code === 0 ? undefined : `podman cannot work on this machine: ${info.stderr.trim()}`;
}
const unusable = await podmanUnusable();
if (unusable) console.warn(`images-run.test.ts skipped: ${unusable}`);

/**
 * `podman run` flags for a container as its pod spec runs it: user and group, read-only root
 * (without podman's own tmpfs mounts, which Kubernetes does not add), no privilege escalation,
 * capabilities, the volumes it mounts (emptyDir as tmpfs; the given files for the others) and the
 * Downward API variables it reads, from `downward`.
 */
function podmanFlags(
  workload: V1Deployment | V1DaemonSet,
  c: V1Container,
  files: Record<string, string>,
  downward: Record<string, string>,
): string[] {
  const pod = podSpec(workload);
  const sc = c.securityContext ?? {};
  if (sc.privileged) throw new Error(`${c.name} asks to be privileged`);
  const user = sc.runAsUser ?? pod.securityContext?.runAsUser;
  const group = sc.runAsGroup ?? pod.securityContext?.runAsGroup;
  if ((sc.runAsNonRoot ?? pod.securityContext?.runAsNonRoot) && user === 0)
    throw new Error('runAsNonRoot as root');
  const flags = user === undefined ? [] : ['--user', `${user}:${group ?? user}`];
  if (sc.readOnlyRootFilesystem) flags.push('--read-only', '--read-only-tmpfs=false');
  if (sc.allowPrivilegeEscalation === false) flags.push('--security-opt', 'no-new-privileges');
  for (const cap of sc.capabilities?.drop ?? []) flags.push(`--cap-drop=${cap}`);
  for (const cap of sc.capabilities?.add ?? []) flags.push(`--cap-add=${cap}`);
  for (const mount of c.volumeMounts ?? []) {
    const volume = pod.volumes?.find((v) => v.name === mount.name);
    if (volume?.emptyDir)
      flags.push('--tmpfs', `${mount.mountPath}:size=${tmpfsSize(volume.emptyDir.sizeLimit ?? '64Mi')}`);
    else flags.push('-v', `${files[mount.name]}:${mount.mountPath}:ro`);
  }
  for (const variable of c.env ?? []) {
    const value = downward[variable.name];
    if (value === undefined) throw new Error(`no value for ${variable.name}`);
    flags.push('-e', `${variable.name}=${value}`);
  }
  return flags;
}

/** A Kubernetes quantity (16Mi) as tmpfs's size option (16m). */
function tmpfsSize(quantity: string): string {
  const match = /^(\d+)([KMG])i$/.exec(quantity);
  if (match === null) throw new Error(`sizeLimit ${quantity}: only Ki, Mi, Gi here`);
  return `${match[1]}${match[2]?.toLowerCase()}`;
}

let dir: string;
const bench = await createBench('img');
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'portlb-images-'));
  if (unusable) return;
  // Builds what is missing or stale; seconds when scripts/setup.sh already built them.
  const build = await run('scripts/build-images.sh', [], env);
  if (build.code !== 0) throw new Error(`scripts/build-images.sh failed:\n${build.stderr.slice(-4000)}`);
}, 900_000);
afterAll(async () => {
  await bench.down();
  await rm(dir, { recursive: true, force: true });
});

describe.skipIf(unusable !== undefined)('the images, built here and run as the manifests run them', () => {
  it.each([PORTLB_IMAGE, EXABGP_IMAGE])(
    '%s starts as uid 65532 on a read-only root filesystem',
    async (image) => {
      // `--version` once the CLI has it; until then --help proves the entrypoint runs.
      const result = await podman(
        'run',
        '--rm',
        '--read-only',
        '--user',
        '65532',
        '--network',
        'none',
        image,
        '--help',
      );
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(result.stdout).toContain('Usage: portlb');
    },
  );

  it.each([PORTLB_IMAGE, EXABGP_IMAGE])(
    '%s holds the bundle npm run build makes, run as its shebang says',
    async (image) => {
      const inspect = await podman('image', 'inspect', '--format', '{{json .Config}}', image);
      const config = JSON.parse(inspect.stdout) as {
        Entrypoint: string[];
        User: string;
        Labels: Record<string, string>;
      };
      expect(config.Entrypoint).toEqual([
        'node',
        ...shippedCli(import.meta.url).flags,
        '/opt/portlb/portlb.mjs',
      ]);
      expect(config.User).toBe('65532:65532');
      expect(config.Labels['org.opencontainers.image.version']).toBe(VERSION);
      const inside = await podman(
        'run',
        '--rm',
        '--network',
        'none',
        '--entrypoint',
        'sha256sum',
        image,
        '/opt/portlb/portlb.mjs',
      );
      const here = createHash('sha256')
        .update(await readFile('dist/cli/portlb.mjs'))
        .digest('hex');
      expect(inside.stdout.split(' ')[0]).toBe(here);
      const node = await podman(
        'run',
        '--rm',
        '--network',
        'none',
        '--entrypoint',
        'node',
        image,
        '--version',
      );
      expect(node.stdout.trim()).toBe(process.version);
    },
  );

  it('the exabgp image has exabgp 4.2 and FRR’s bfdd, runnable as uid 65532', async () => {
    const exabgp = await podman(
      'run',
      '--rm',
      '--network',
      'none',
      '--entrypoint',
      'exabgp',
      EXABGP_IMAGE,
      '--version',
    );
    expect(exabgp.stdout).toMatch(/ExaBGP : 4\.2\./);
    const bfdd = await podman(
      'run',
      '--rm',
      '--network',
      'none',
      '--entrypoint',
      '/usr/lib/frr/bfdd',
      EXABGP_IMAGE,
      '--version',
    );
    expect(bfdd.stdout).toMatch(/^bfdd version 8\./);
  });

  it.each(OVERLAYS)('the image’s portlb validate accepts the config of overlays/%s', async (overlay) => {
    const objects = await kustomize(overlayDir(overlay));
    const deployment = lbDeployment(objects);
    const sidecar = container(deployment, 'portlb');
    const flags = podmanFlags(
      deployment,
      sidecar,
      { config: resolve(overlayDir(overlay)) },
      {
        POD_NAME: 'web-lb-0',
        POD_NAMESPACE: 'web',
        POD_IP: '10.244.1.5',
        NODE_NAME: 'n1',
        HOST_IP: '10.0.0.11',
      },
    );
    const result = await podman(
      'run',
      '--rm',
      '--network',
      'none',
      ...flags,
      sidecar.image ?? '',
      'validate',
      '--config',
      '/etc/portlb/config.yaml',
    );
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/^\/etc\/portlb\/config\.yaml: valid \(mode (bgp|aws)/);
  });
});

describe.skipIf(unusable !== undefined)(
  'the bgp sidecar container, with the security context of overlays/onprem-bgp',
  () => {
    const name = `portlb-it-sidecar-${process.pid}`;

    beforeAll(async () => {
      await bench.up();
      await bench.startGobgp(renderRrConfig(parseConfig(sidecarConfig(), {}), { flavor: 'gobgp' }));
      bench.startBackend();
      await until(
        'gobgpd',
        () =>
          bench.nextHops(VIP).then(
            () => true,
            () => false,
          ),
        Boolean,
      );
    });
    afterAll(async () => {
      await podman('rm', '--force', '--time', '0', name);
    });

    it('announces the VIP with no capability and only /tmp writable, and withdraws on SIGTERM before it exits', async () => {
      const objects = await kustomize(overlayDir('onprem-bgp'));
      const deployment = lbDeployment(objects);
      const sidecar = container(deployment, 'portlb');
      expect(sidecar.image).toBe(EXABGP_IMAGE);
      const configDir = join(dir, 'sidecar');
      await mkdir(configDir, { recursive: true });
      await writeFile(join(configDir, 'config.yaml'), stringify(sidecarConfig()));
      const flags = podmanFlags(
        deployment,
        sidecar,
        { config: configDir },
        {
          POD_NAME: 'web-lb-0',
          POD_NAMESPACE: 'web',
          POD_IP: LB,
          NODE_NAME: 'n1',
          HOST_IP: LB,
        },
      );
      expect(flags).toContain('--cap-drop=ALL');
      expect(flags.filter((f) => f.startsWith('--cap-add'))).toEqual([]);
      const started = await podman(
        'run',
        '--detach',
        '--name',
        name,
        '--network',
        `ns:/run/netns/${bench.ns}`,
        ...flags,
        sidecar.image ?? '',
        ...(sidecar.args ?? []),
      );
      expect(started.stderr).toBe('');

      expect(
        await until(
          'the route on the RR',
          () => bench.nextHops(VIP),
          (h) => h.length > 0,
          30_000,
        ),
      ).toEqual([LB]);
      expect(
        (
          await until(
            'readyz',
            () => bench.http('/readyz'),
            (r) => r.status === 200,
          )
        ).status,
      ).toBe(200);

      const grace = podSpec(deployment).terminationGracePeriodSeconds ?? 30;
      const stopped = await podman('stop', '--time', String(grace), name);
      expect(stopped.code).toBe(0);
      const state = await podman('inspect', '--format', '{{.State.ExitCode}}', name);
      expect(state.stdout.trim()).toBe('0');
      expect(await bench.nextHops(VIP)).toEqual([]);
      const output = await podman('logs', name);
      const logs = `${output.stdout}\n${output.stderr}`.split('\n').filter((l) => l.startsWith('{'));
      const events = logs.map((l) => JSON.parse(l) as { event?: string; routes?: number });
      expect(events.find((e) => e.event === 'withdrawn')).toMatchObject({ routes: 1 });
    });
  },
);

describe.skipIf(unusable !== undefined)(
  'the node agent container, with the security context of its DaemonSet',
  () => {
    // The DaemonSet runs on the host network; here the container gets a namespace of its own, so
    // the route it writes touches nothing of the host's.
    const script = 'ip route add blackhole 203.0.113.0/28 proto 202 && ip -json route show proto 202';

    async function agentRun(without?: string) {
      const daemonSet = nodeAgentDaemonSet(await kustomize(overlayDir('onprem-bgp')));
      const agent = container(daemonSet, 'node-agent');
      const flags = podmanFlags(
        daemonSet,
        agent,
        { config: resolve(overlayDir('onprem-bgp')) },
        {
          NODE_NAME: 'n1',
          HOST_IP: '10.0.0.11',
        },
      ).filter((f) => f !== `--cap-add=${without}`);
      return podman(
        'run',
        '--rm',
        '--network',
        'none',
        ...flags,
        '--entrypoint',
        'sh',
        agent.image ?? '',
        '-c',
        script,
      );
    }

    it('writes routes with NET_ADMIN, its one capability', async () => {
      const result = await agentRun();
      expect(result.stderr).toBe('');
      expect(JSON.parse(result.stdout)).toEqual([
        // Listed by `show proto 202`: the agent's marker, as it writes its routes.
        { type: 'blackhole', dst: '203.0.113.0/28', flags: [] },
      ]);
    });

    it('cannot without it: the capability is used, not just asked for', async () => {
      const result = await agentRun('NET_ADMIN');
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain('Operation not permitted');
    });
  },
);
