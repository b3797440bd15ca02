import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1ClusterRole, V1ConfigMap } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import {
  CHART,
  comparable,
  configsOf,
  differing,
  HELM,
  helmOverlay,
  helmTemplate,
  kustomize,
  lbDeployment,
  type Manifest,
  OVERLAYS,
  overlayDir,
  podSpec,
  run,
  VERSION,
} from './support.js';

interface BgpConfig {
  services: { vip: string }[];
  bgp: { bfd?: unknown; peers: { passwordFile?: string }[] };
}

/*
 * The chart (deploy/helm/portlb) rendered by a real helm (scripts/build-helm.sh builds it from its
 * Go module): the same objects as kustomize for each overlay's settings, and values its schema or
 * its own checks refuse fail `helm template` with the field named.
 */

if (!existsSync(HELM))
  throw new Error(`${HELM} is missing: run scripts/build-helm.sh (scripts/setup.sh does)`);

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'portlb-helm-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe.each(OVERLAYS)('helm template with the settings of overlays/%s', (overlay) => {
  it('renders the objects kubectl kustomize does', async () => {
    const helm = await helmOverlay(overlay);
    expect(helm.stderr).toBe('');
    const kustomized = await kustomize(overlayDir(overlay));
    expect(differing(kustomized, helm.objects)).toEqual([]);
    expect([...comparable(helm.objects).keys()].sort()).toEqual([...comparable(kustomized).keys()].sort());
    // The config text itself, byte for byte, so the ConfigMap is the file the overlay ships.
    expect(configsOf(helm.objects).map((c) => c.text)).toEqual(configsOf(kustomized).map((c) => c.text));
  });
});

describe('the chart', () => {
  it('names its ConfigMaps after the config, so a changed config rolls the pods', async () => {
    const before = await helmOverlay('aws');
    const edited = join(dir, 'drain.yaml');
    await writeFile(
      edited,
      (await readFile(`${overlayDir('aws')}/config.yaml`, 'utf8')).replace('seconds: 10', 'seconds: 20'),
    );
    const changed = await helmTemplate([
      '-f',
      `${overlayDir('aws')}/values.yaml`,
      '--set-file',
      `config=${edited}`,
    ]);
    const names = (objects: Manifest[]) =>
      objects.filter((o) => o.kind === 'ConfigMap').map((o) => o.metadata.name);
    expect(names(changed.objects)).toHaveLength(2);
    for (const name of names(changed.objects)) expect(names(before.objects)).not.toContain(name);
    const volume = podSpec(lbDeployment(changed.objects)).volumes?.find((v) => v.name === 'config');
    expect(names(changed.objects)).toContain(volume?.configMap?.name);
    // The grace period follows drain.seconds: 20 s of drain + 10 s of next-hop wait + 20 s.
    expect(podSpec(lbDeployment(changed.objects)).terminationGracePeriodSeconds).toBe(50);
  });

  it('takes the config as a map in a values file too, shipping the same config', async () => {
    const text = await readFile(`${overlayDir('onprem-bgp')}/config.yaml`, 'utf8');
    const values = join(dir, 'map.yaml');
    await writeFile(values, JSON.stringify({ config: parse(text) }));
    const helm = await helmTemplate(['-f', `${overlayDir('onprem-bgp')}/values.yaml`, '-f', values]);
    expect(helm.stderr).toBe('');
    const [shipped] = configsOf(helm.objects);
    expect(parse(shipped?.text ?? '')).toEqual(parse(text));
    // Apart from the config's text (YAML of the map, not the file), the objects are the file's.
    const fromFile = await helmOverlay('onprem-bgp');
    expect(differing(fromFile.objects, helm.objects)).toEqual([
      'ConfigMap portlb-system/portlb-node-agent',
      'ConfigMap web/web-lb',
    ]);
  });

  it.each([
    [
      'a string where a number belongs',
      ['--set', 'lb.replicas=two'],
      "at '/lb/replicas': got string, want integer",
    ],
    ['a misspelt key', ['--set', 'lb.replica=2'], "at '/lb': additional properties 'replica' not allowed"],
    ['a pull policy that does not exist', ['--set', 'image.pullPolicy=Sometimes'], "at '/image/pullPolicy'"],
    [
      'a namespace that is no DNS label',
      ['--set', 'nodeAgent.namespace=Portlb_System'],
      "at '/nodeAgent/namespace'",
    ],
    ['no config at all', [], "at '/config': got null, want string or object"],
    [
      'a negative next-hop wait',
      ['--set', 'lb.shutdown.nextHopWaitSeconds=-1'],
      "at '/lb/shutdown/nextHopWaitSeconds'",
    ],
    ['a Secret name that is no DNS name', ['--set', 'bgp.md5Secret=MD5_Key'], "at '/bgp/md5Secret'"],
  ])('refuses %s, naming the field', async (_, args, message) => {
    const helm = await helmTemplate(
      args.length === 0 ? args : ['--set-file', `config=${overlayDir('aws')}/config.yaml`, ...args],
    );
    expect(helm.code).not.toBe(0);
    expect(helm.stderr).toContain("values don't meet the specifications of the schema");
    expect(helm.stderr).toContain(message);
  });

  it.each([
    [
      'another namespace',
      ['--namespace', 'shop'],
      'config.kubernetes.namespace: must be the release namespace "shop"',
    ],
    [
      'a selector the pods cannot carry as labels',
      ['--set-string', 'config.kubernetes.lbPodSelector=tier in (lb)'],
      'config.kubernetes.lbPodSelector: "tier in (lb)" is not key=value',
    ],
  ])('refuses a config it cannot agree with (%s), naming the field', async (_, args, message) => {
    const values = join(dir, 'config.yaml');
    await writeFile(
      values,
      JSON.stringify({ config: parse(await readFile(`${overlayDir('aws')}/config.yaml`, 'utf8')) }),
    );
    const helm = await helmTemplate(['-f', values, ...args]);
    expect(helm.code).not.toBe(0);
    expect(helm.stderr).toContain(message);
  });

  it.each([
    ['bgp', `localhost/portlb-exabgp:${VERSION}`, false, false],
    ['aws', `localhost/portlb:${VERSION}`, true, false],
    // Every LB writes its own routes: no Lease.
    ['gcp', `localhost/portlb:${VERSION}`, false, false],
    // auto may pick bgp (exabgp) or aws (the Lease), and reads its Node first (get).
    ['auto', `localhost/portlb-exabgp:${VERSION}`, true, true],
  ])('mode %s: sidecar image %s, Lease %s, get nodes %s', async (mode, image, lease, getNodes) => {
    const config = parse(await readFile(`${overlayDir('aws')}/config.yaml`, 'utf8')) as Record<
      string,
      unknown
    >;
    const values = join(dir, `mode-${mode}.yaml`);
    await writeFile(values, JSON.stringify({ config: { ...config, mode } }));
    const helm = await helmTemplate(['-f', values]);
    expect(helm.stderr).toBe('');
    expect(podSpec(lbDeployment(helm.objects)).containers.map((c) => c.image)).toEqual([image]);
    // The data plane in every mode, from the portlb image; no bfdd without bgp.bfd.
    expect(podSpec(lbDeployment(helm.objects)).initContainers?.map((c) => [c.name, c.image])).toEqual([
      ['dataplane', `localhost/portlb:${VERSION}`],
    ]);
    expect(helm.objects.some((o) => o.kind === 'Lease')).toBe(lease);
    const nodes = helm.objects.find(
      (o): o is V1ClusterRole & Manifest => o.metadata.name === 'portlb-read-nodes',
    );
    expect(nodes?.rules?.flatMap((r) => r.verbs).includes('get')).toBe(getNodes);
  });

  /** The onprem-bgp overlay's config with `change` applied, as a values file. */
  async function bgpValues(name: string, change: (config: BgpConfig) => void): Promise<string> {
    const config = parse(await readFile(`${overlayDir('onprem-bgp')}/config.yaml`, 'utf8')) as BgpConfig;
    change(config);
    const values = join(dir, `${name}.yaml`);
    await writeFile(values, JSON.stringify({ config }));
    return values;
  }

  it('runs bfdd only where config.bgp.bfd is set, and mounts the keys only where peers have one', async () => {
    const plain = await helmTemplate([
      '-f',
      await bgpValues('no-bfd', (c) => {
        delete c.bgp.bfd;
        for (const peer of c.bgp.peers) delete peer.passwordFile;
      }),
    ]);
    expect(plain.stderr).toBe('');
    const pod = podSpec(lbDeployment(plain.objects));
    expect(pod.initContainers?.map((c) => c.name)).toEqual(['dataplane']);
    expect(pod.volumes?.map((v) => v.name)).toEqual(['config', 'tmp']);
    expect(pod.containers[0]?.volumeMounts?.map((m) => m.name)).toEqual(['config', 'tmp']);
    // The same config with both turned on is what the overlay renders (the test above).
  });

  it('mounts the md5Secret in the directory of the key files, however it is named', async () => {
    const helm = await helmTemplate([
      '-f',
      await bgpValues('keys', (c) => {
        for (const peer of c.bgp.peers) peer.passwordFile = '/var/run/secrets/bgp/rr-key';
      }),
      '--set',
      'bgp.md5Secret=site-bgp-keys',
    ]);
    expect(helm.stderr).toBe('');
    const pod = podSpec(lbDeployment(helm.objects));
    expect(pod.volumes).toContainEqual({
      name: 'bgp-md5',
      secret: { secretName: 'site-bgp-keys', defaultMode: 0o440 },
    });
    expect(pod.containers[0]?.volumeMounts).toContainEqual({
      name: 'bgp-md5',
      mountPath: '/var/run/secrets/bgp',
      readOnly: true,
    });
  });

  it.each([
    [
      'key files in two directories',
      (c: BgpConfig) => {
        const [first] = c.bgp.peers;
        if (first) first.passwordFile = '/etc/other/rr.key';
      },
      'config.bgp.peers[].passwordFile: the key files are in /etc/other, /etc/portlb-bgp',
    ],
    [
      'a key file inside the config’s own mount',
      (c: BgpConfig) => {
        const [first] = c.bgp.peers;
        if (first) first.passwordFile = '/etc/portlb/rr.key';
      },
      'config.bgp.peers[0].passwordFile: "/etc/portlb/rr.key" is inside /etc/portlb',
    ],
  ])('refuses %s, naming the field', async (name, change, message) => {
    const helm = await helmTemplate(['-f', await bgpValues(name.replace(/\W+/g, '-'), change)]);
    expect(helm.code).not.toBe(0);
    expect(helm.stderr).toContain(message);
  });

  it.each([
    ['an IPv4 VIP', '203.0.113.0/28', true, ['net.ipv4.ip_forward']],
    ['an IPv6 VIP', '2001:db8:1::/124', true, ['net.ipv6.conf.all.forwarding']],
    ['dataPlane.sysctls=false', '203.0.113.0/28', false, undefined],
  ])('sets the forwarding sysctls the data plane needs: %s', async (name, vip, sysctls, names) => {
    const values = await bgpValues(`vip-${name.replace(/\W+/g, '-')}`, (c) => {
      const [service] = c.services;
      if (service) service.vip = vip;
    });
    const helm = await helmTemplate(['-f', values, '--set', `dataPlane.sysctls=${sysctls}`]);
    expect(helm.stderr).toBe('');
    const context = podSpec(lbDeployment(helm.objects)).securityContext;
    expect(context?.sysctls?.map((s) => [s.name, s.value])).toEqual(names?.map((n) => [n, '1']));
  });

  it('takes the next-hop wait into the grace period: drain.seconds + wait + 20', async () => {
    const helm = await helmOverlay('gcp', '--set', 'lb.shutdown.nextHopWaitSeconds=0');
    expect(podSpec(lbDeployment(helm.objects)).terminationGracePeriodSeconds).toBe(10 + 0 + 20);
  });

  it('takes the next-hop wait from the config where it sets one: what the sidecar waits', async () => {
    const edited = join(dir, 'wait.yaml');
    const text = await readFile(`${overlayDir('onprem-bgp')}/config.yaml`, 'utf8');
    const config = parse(text) as { bgp: Record<string, unknown> };
    config.bgp.shutdown = { nextHopWaitSeconds: 60 };
    await writeFile(edited, stringify(config));
    const helm = await helmTemplate([
      '-f',
      `${overlayDir('onprem-bgp')}/values.yaml`,
      '--set-file',
      `config=${edited}`,
    ]);
    expect(helm.code, helm.stderr).toBe(0);
    expect(podSpec(lbDeployment(helm.objects)).terminationGracePeriodSeconds).toBe(10 + 60 + 20);
  });

  it('passes helm lint, and carries the version package.json has', async () => {
    const lint = await run(HELM, [
      'lint',
      CHART,
      '--namespace',
      'web',
      '--set-file',
      `config=${overlayDir('aws')}/config.yaml`,
    ]);
    expect(lint.stdout).toContain('1 chart(s) linted, 0 chart(s) failed');
    const chart = parse(await readFile(`${CHART}/Chart.yaml`, 'utf8')) as {
      version: string;
      appVersion: string;
    };
    expect(chart.appVersion).toBe(VERSION);
    const images = podSpec(lbDeployment((await helmOverlay('aws')).objects)).containers.map((c) => c.image);
    expect(images).toEqual([`localhost/portlb:${VERSION}`]);
  });

  it('renders the monitoring objects of deploy/k8s/monitoring from the same files', async () => {
    const helm = await helmOverlay(
      'aws',
      '--set',
      'monitoring.prometheusRule=true',
      '--set',
      'monitoring.grafanaDashboard=true',
      '--show-only',
      'templates/monitoring.yaml',
    );
    expect(helm.stderr).toBe('');
    const kustomized = await kustomize('deploy/k8s/monitoring');
    expect(differing(kustomized, helm.objects)).toEqual([]);
    expect(helm.objects.map((o) => o.kind).sort()).toEqual(['ConfigMap', 'PrometheusRule']);
    const dashboard = helm.objects.find((o): o is V1ConfigMap & Manifest => o.kind === 'ConfigMap');
    expect(dashboard?.data?.['grafana-dashboard.json']).toBe(
      await readFile('deploy/k8s/monitoring/grafana-dashboard.json', 'utf8'),
    );
  });
});
