import { createHash } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { V1Container, V1DaemonSet, V1Deployment } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { parseConfig } from '../../src/config/load.js';
import { modelFromConfig } from '../../src/dataplane/render.js';
import { renderNftables } from '../../src/dataplane/render-nftables.js';
import { renderRrConfig } from '../../src/render/rr.js';
import { shippedCli } from '../../src/system/shipped.js';
import {
  allContainers,
  container,
  keyFiles,
  kustomize,
  LB_CAPABILITIES,
  lbDeployment,
  nodeAgentDaemonSet,
  OVERLAYS,
  overlayDir,
  podmanUnusable,
  podSpec,
  run,
  secretMounts,
  VERSION,
} from '../deploy/support.js';
import { createBench, LB, sidecarConfig, until, VIP } from './bgp-harness.js';
import { addNetns, inNs, removeAll, spawnIn } from './dataplane-netns.js';

/*
 * The images scripts/build-images.sh builds here (podman + runc, a debootstrap base, no
 * registry), run the way the manifests run them: the flags below are made from the rendered
 * pod specs (user, read-only root, capabilities, sysctls, volumes), not written by hand. The bgp
 * sidecar runs in a network namespace with a real gobgpd route reflector; the data-plane
 * container writes its table in an LB namespace between a client and a backend namespace and
 * forwards real HTTP; bfdd brings a BFD session up with a real FRR bfdd from its rendered config;
 * the node agent's container writes a route in a namespace of its own (never the host's). Each
 * added capability is shown to be needed: the container fails without it.
 */

const CONTAINERS_CONF = resolve('deploy/image/containers.conf');
const PORTLB_IMAGE = `localhost/portlb:${VERSION}`;
const EXABGP_IMAGE = `localhost/portlb-exabgp:${VERSION}`;
const env = { ...process.env, CONTAINERS_CONF };
const podman = (...args: string[]) => run('podman', args, env);

const unusable = await podmanUnusable(env);
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
  // The pod's sysctls, which the kubelet sets in the pod's network namespace before any container.
  for (const sysctl of pod.securityContext?.sysctls ?? [])
    flags.push('--sysctl', `${sysctl.name}=${sysctl.value}`);
  if (c.command) flags.push('--entrypoint', JSON.stringify(c.command));
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

/**
 * What the Secret portlb-bgp-md5 holds for an overlay: a file for every key its config names
 * under the mount (a test key: the site's own is never in the repository).
 */
async function keyDir(overlay: string, objects: Awaited<ReturnType<typeof kustomize>>): Promise<string> {
  const here = join(dir, `keys-${overlay}`);
  await mkdir(here, { recursive: true });
  const [mount] = secretMounts(lbDeployment(objects));
  const text = await readFile(`${overlayDir(overlay)}/config.yaml`, 'utf8');
  for (const file of keyFiles(text)) {
    if (mount && file.startsWith(`${mount}/`))
      await writeFile(join(here, file.slice(mount.length + 1)), 'test-key\n');
  }
  return here;
}
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'portlb-images-'));
  if (unusable) return;
  // Builds what is missing or stale; seconds when scripts/setup.sh already built them.
  const build = await run('scripts/build-images.sh', [], env);
  if (build.code !== 0) throw new Error(`scripts/build-images.sh failed:\n${build.stderr.slice(-4000)}`);
}, 900_000);
afterAll(async () => {
  await bench.down();
  await removeAll();
  await rm(dir, { recursive: true, force: true });
});

describe.skipIf(unusable !== undefined)('the images, built here and run as the manifests run them', () => {
  it.each([PORTLB_IMAGE, EXABGP_IMAGE])(
    '%s starts as uid 65532 on a read-only root filesystem and prints its version',
    async (image) => {
      const result = await podman(
        'run',
        '--rm',
        '--read-only',
        '--user',
        '65532',
        '--network',
        'none',
        image,
        '--version',
      );
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(result.stdout).toBe(`${VERSION}\n`);
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

  it.each(OVERLAYS)(
    'overlays/%s: every container starts its own command in its own image, with its own mounts alone',
    async (overlay) => {
      const objects = await kustomize(overlayDir(overlay));
      const files = { config: resolve(overlayDir(overlay)), 'bgp-md5': await keyDir(overlay, objects) };
      const downward = {
        POD_NAME: 'web-lb-0',
        POD_NAMESPACE: 'web',
        POD_IP: '10.244.1.5',
        NODE_NAME: 'n1',
        HOST_IP: '10.0.0.11',
      };
      const started: string[] = [];
      for (const workload of [lbDeployment(objects), nodeAgentDaemonSet(objects)]) {
        for (const c of allContainers(workload)) {
          // Past loading its config, which it refuses by exiting 2 with the problems on stderr
          // and nothing else; without an API server or the node's address it may fail later.
          // In onprem-bgp the data plane and bfdd mount no key (they read none) and still start.
          const output = await firstWords(workload, c, files, downward);
          expect(output, c.name).not.toContain('invalid configuration');
          expect(output, c.name).toMatch(STARTED);
          started.push(c.name);
        }
      }
      expect(started.sort()).toEqual(
        [...(overlay === 'onprem-bgp' ? ['bfdd'] : []), 'dataplane', 'node-agent', 'portlb'].sort(),
      );
    },
  );
});

/** What a container says once it has loaded its config: portlb's first log line, or FRR's start. */
const STARTED = /^\{"level":"info".*"event":"|BFD: \[[A-Z0-9-]+\] bfdd \S+ starting/m;

/**
 * A container's own command and arguments, run as its pod spec runs it with no network, until it
 * says it started (STARTED) or exits; then removed. Returns its output, stdout and stderr.
 */
async function firstWords(
  workload: V1Deployment | V1DaemonSet,
  c: V1Container,
  files: Record<string, string>,
  downward: Record<string, string>,
): Promise<string> {
  const name = `portlb-it-start-${c.name}-${process.pid}`;
  const flags = podmanFlags(workload, c, files, downward);
  const launched = await podman(
    'run',
    '--detach',
    '--name',
    name,
    '--network',
    'none',
    ...flags,
    c.image ?? '',
    ...(c.args ?? []),
  );
  if (launched.code !== 0) throw new Error(`podman run ${c.name}: ${launched.stderr}`);
  try {
    const seen = async () => {
      const logs = await podman('logs', name);
      const state = await podman('inspect', '--format', '{{.State.Status}}', name);
      return { output: `${logs.stdout}\n${logs.stderr}`, status: state.stdout.trim() };
    };
    const first = await until(
      `${c.name} to start`,
      seen,
      (r) => STARTED.test(r.output) || r.status === 'exited',
      30_000,
    );
    // An exit races the last lines into the log: read it once more.
    return (first.status === 'exited' ? await seen() : first).output;
  } finally {
    await podman('rm', '--force', '--time', '0', name);
  }
}

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
        { config: configDir, 'bgp-md5': await keyDir('onprem-bgp', objects) },
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
      const started = await podmanRun(bench.ns, sidecar, flags, name);
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

/** `podman run` of a container in a network namespace: detached as `name`, or to its end (--rm). */
function podmanRun(ns: string, c: V1Container, flags: string[], name?: string, extra: string[] = []) {
  const how = name === undefined ? ['--rm'] : ['--detach', '--name', name];
  return podman(
    'run',
    ...how,
    '--network',
    `ns:/run/netns/${ns}`,
    ...flags,
    c.image ?? '',
    ...(c.args ?? []),
    ...extra,
  );
}

/** A veth pair between two namespaces of this test, with one /24 address on each end. */
async function connect(a: string, b: string, addressA: string, addressB: string, tag: string) {
  const [ifA, ifB] = [`${tag}a${process.pid % 1000}`, `${tag}b${process.pid % 1000}`];
  await inNs(a, 'ip', 'link', 'add', ifA, 'type', 'veth', 'peer', 'name', ifB, 'netns', b);
  for (const [ns, ifname, address] of [
    [a, ifA, addressA],
    [b, ifB, addressB],
  ] as const) {
    await inNs(ns, 'ip', 'addr', 'add', `${address}/24`, 'dev', ifname);
    await inNs(ns, 'ip', 'link', 'set', ifname, 'up');
  }
}

/** A TCP-MD5 key file as the onprem-bgp overlay names it, mounted only in the sidecar. */
const UNMOUNTED_KEY = '/etc/portlb-bgp/rr.key';

/** An LB's config for the containers below: the service `web` on 203.0.113.0/28, one static backend. */
function lbConfig(backend: string, bgp: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return {
    mode: 'bgp',
    owner: 'portlb',
    allowedVipPools: ['203.0.113.0/24'],
    clusterNetworks: { nodes: ['10.88.0.0/16'] },
    services: [
      {
        name: 'web',
        vip: '203.0.113.0/28',
        ports: [{ port: 80 }],
        backends: { static: [{ address: backend, port: 8080 }] },
      },
    ],
    bgp: { localAs: 65000, ...bgp },
    ...extra,
  };
}

/**
 * One container of an overlay's LB pods as podman runs it: its flags from the pod spec (one added
 * capability left out when asked), its config file this test's `config`.
 */
async function lbContainer(
  overlay: string,
  name: string,
  config: unknown,
  downward: Record<string, string>,
  without?: string,
): Promise<{ c: V1Container; flags: string[] }> {
  const deployment = lbDeployment(await kustomize(overlayDir(overlay)));
  const c = allContainers(deployment).find((x) => x.name === name);
  if (c === undefined) throw new Error(`no ${name} container in overlays/${overlay}`);
  const configDir = join(dir, name);
  await mkdir(configDir, { recursive: true });
  await writeFile(join(configDir, 'config.yaml'), stringify(config));
  const flags = podmanFlags(deployment, c, { config: configDir }, downward).filter(
    (f) => f !== `--cap-add=${without}`,
  );
  return { c, flags };
}

describe.skipIf(unusable !== undefined)(
  'the data-plane container, with the security context of the LB pods',
  () => {
    // client (10.88.1.2) -- LB pod (10.88.1.1 | 10.88.2.1: the container) -- backend (10.88.2.2)
    const name = `portlb-it-dataplane-${process.pid}`;
    // The key file the peers name is mounted in the sidecar alone: the data plane never reads it.
    const config = lbConfig(
      '10.88.2.2',
      { peers: [{ address: '10.88.1.2', as: 65000, passwordFile: UNMOUNTED_KEY }] },
      {
        dataPlane: { kind: 'nftables', listen: '0.0.0.0:9404' },
        reconcile: { resyncSeconds: 5, debounceMs: 50 },
      },
    );
    const dataPlane = (without?: string) => lbContainer('onprem-bgp', 'dataplane', config, {}, without);
    const viaLb = () => inNs(client, 'curl', '-s', '--max-time', '5', 'http://203.0.113.1/');
    let lb: string;
    let client: string;
    let backend: string;

    beforeAll(async () => {
      [lb, client, backend] = await Promise.all([addNetns('lbpod'), addNetns('client'), addNetns('backend')]);
      await connect(client, lb, '10.88.1.2', '10.88.1.1', 'pc');
      await connect(lb, backend, '10.88.2.1', '10.88.2.2', 'pb');
      await inNs(client, 'ip', 'route', 'add', '203.0.113.0/28', 'via', '10.88.1.1');
      // Off, so that only the pod's sysctl can turn it on.
      await inNs(lb, 'sysctl', '-qw', 'net.ipv4.ip_forward=0');
      const script =
        "require('node:http').createServer((q, s) => s.end('backend\\n')).listen(8080, '10.88.2.2', () => console.log('ready'))";
      await spawnIn(backend, [process.execPath, '-e', script]);
    });
    afterAll(async () => {
      await podman('rm', '--force', '--time', '0', name);
    });

    it('writes the rendered table with NET_ADMIN alone, turns forwarding on by the pod’s sysctl, and forwards real HTTP', async () => {
      const { c, flags } = await dataPlane();
      expect(flags.filter((f) => f.startsWith('--cap-add'))).toEqual(['--cap-add=NET_ADMIN']);
      expect(flags).toContain('--read-only');
      const started = await podmanRun(lb, c, flags, name);
      expect(started.stderr).toBe('');
      const readyz = () =>
        inNs(lb, 'curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', 'http://127.0.0.1:9404/readyz').catch(
          () => '',
        );
      expect(await until('the data plane’s /readyz', readyz, (code) => code === '200', 20_000)).toBe('200');
      expect((await inNs(lb, 'sysctl', '-n', 'net.ipv4.ip_forward')).trim()).toBe('1');
      // The table nft lists is the one `portlb render nftables` prints for this config.
      const rendered = renderNftables(modelFromConfig(parseConfig(config, {})));
      expect(await inNs(lb, 'nft', 'list', 'table', 'inet', 'portlb')).toBe(rendered.body);
      // A client beyond the LB reaches the backend through it: DNAT, forwarding, masquerade.
      expect(await viaLb()).toBe('backend\n');

      // SIGTERM: it stops, and leaves its rules serving.
      expect((await podman('stop', '--time', '10', name)).code).toBe(0);
      expect((await podman('inspect', '--format', '{{.State.ExitCode}}', name)).stdout.trim()).toBe('0');
      expect(await viaLb()).toBe('backend\n');
    });

    it('cannot write its table without NET_ADMIN: the capability is used, not just asked for', async () => {
      await inNs(lb, 'nft', 'delete', 'table', 'inet', 'portlb').catch(() => '');
      const { c, flags } = await dataPlane('NET_ADMIN');
      const result = await podmanRun(lb, c, flags, undefined, ['--once']);
      expect(result.code).toBe(1);
      expect(`${result.stdout}${result.stderr}`).toContain('Operation not permitted');
      await expect(inNs(lb, 'nft', 'list', 'table', 'inet', 'portlb')).rejects.toThrow();
    });
  },
);

describe.skipIf(unusable !== undefined)('the bfdd container of overlays/onprem-bgp', () => {
  // LB pod (10.88.3.1: the container) -- route reflector (10.88.3.2: a real FRR bfdd)
  const name = `portlb-it-bfdd-${process.pid}`;
  // As in the overlay, the peer has a key, which bfdd's container does not mount: it reads none.
  const config = lbConfig('10.88.9.9', {
    peers: [{ address: '10.88.3.2', as: 65000, passwordFile: UNMOUNTED_KEY }],
    bfd: {},
  });
  const rrDirs: string[] = [];
  let lbNs: string;

  async function bfddRun(detach: boolean, without?: string) {
    const downward = { POD_IP: '10.88.3.1', NODE_NAME: 'n1', HOST_IP: '10.88.3.1' };
    const { c, flags } = await lbContainer('onprem-bgp', 'bfdd', config, downward, without);
    return podmanRun(lbNs, c, flags, detach ? name : undefined);
  }

  beforeAll(async () => {
    let rrNs: string;
    [lbNs, rrNs] = await Promise.all([addNetns('bfdlb'), addNetns('bfdrr')]);
    await connect(lbNs, rrNs, '10.88.3.1', '10.88.3.2', 'bf');
    // The route reflector's end: FRR bfdd with the LB as a multihop peer, as bgpd makes it, in a
    // directory of its own that user frr can reach (mkdtemp's are root's alone).
    const rrDir = await mkdtemp(join(tmpdir(), 'portlb-rr-bfdd-'));
    rrDirs.push(rrDir);
    await chmod(rrDir, 0o755);
    await writeFile(
      join(rrDir, 'bfdd.conf'),
      'bfd\n peer 10.88.3.1 multihop local-address 10.88.3.2\n  receive-interval 300\n  transmit-interval 300\n exit\nexit\n',
    );
    await run('chown', ['-R', 'frr:frr', rrDir]);
    const bfdd = `/usr/lib/frr/bfdd -f ${rrDir}/bfdd.conf -z ${rrDir}/zserv.api --vty_socket ${rrDir} -i ${rrDir}/bfdd.pid --log stdout -P 0`;
    await spawnIn(rrNs, ['sh', '-c', `echo ready; exec ${bfdd}`]);
  });
  afterAll(async () => {
    await podman('rm', '--force', '--time', '0', name);
    for (const d of rrDirs) await rm(d, { recursive: true, force: true });
  });

  it('renders its config from the config and the Downward API, and brings the session up with a real bfdd', async () => {
    const started = await bfddRun(true);
    expect(started.stderr).toBe('');
    const peers = async () => {
      const out = await podman(
        'exec',
        '--user',
        'frr',
        name,
        'vtysh',
        '--vty_socket',
        '/run/frr',
        '-c',
        'show bfd peers json',
      );
      return JSON.parse(out.stdout || '[]') as {
        peer: string;
        local: string;
        multihop: boolean;
        status: string;
      }[];
    };
    const up = await until('the BFD session', peers, (p) => p[0]?.status === 'up', 20_000);
    expect(up.map(({ peer, local, multihop, status }) => ({ peer, local, multihop, status }))).toEqual([
      { peer: '10.88.3.2', local: '10.88.3.1', multihop: true, status: 'up' },
    ]);
    // FRR dropped to its own user, with nothing effective: the capabilities are only permitted.
    const status = await podman('exec', name, 'sh', '-c', 'grep -E "^(Uid|CapEff)" /proc/1/status');
    expect(status.stdout).toMatch(/^Uid:\s+100\s/m);
    expect(status.stdout).toMatch(/^CapEff:\s+0+$/m);
  });

  it.each(LB_CAPABILITIES.bfdd ?? [])('does not start without %s', async (capability) => {
    const result = await bfddRun(false, capability);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/privs_init/);
  });
});

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
