import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1ClusterRole, V1ConfigMap } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
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
    // The grace period follows drain.seconds: 20 s of drain + 20 s for the rest.
    expect(podSpec(lbDeployment(changed.objects)).terminationGracePeriodSeconds).toBe(40);
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
    expect(helm.objects.some((o) => o.kind === 'Lease')).toBe(lease);
    const nodes = helm.objects.find(
      (o): o is V1ClusterRole & Manifest => o.metadata.name === 'portlb-read-nodes',
    );
    expect(nodes?.rules?.flatMap((r) => r.verbs).includes('get')).toBe(getNodes);
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
