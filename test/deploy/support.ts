/**
 * The deployment checks, with the real tools: `kubectl kustomize` renders an overlay, `helm
 * template` the chart, and the shipped `portlb validate` (the bundle) judges every config a
 * rendered ConfigMap carries. The tests in test/deploy and test/integration/deploy-*.test.ts use
 * them; nothing here changes anything but temporary files.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import type {
  KubernetesObject,
  V1ConfigMap,
  V1Container,
  V1DaemonSet,
  V1Deployment,
  V1PodSpec,
} from '@kubernetes/client-node';
import { parse, parseAllDocuments } from 'yaml';
import type { FileKind } from '../../src/config/files.js';

export const OVERLAYS = ['onprem-bgp', 'aws', 'gcp', 'gcp-pubsub'] as const;
export type Overlay = (typeof OVERLAYS)[number];
export const overlayDir = (overlay: string) => `deploy/k8s/overlays/${overlay}`;
export const CHART = 'deploy/helm/portlb';
/** The namespace of the LB pods in every overlay, and so the chart's release namespace. */
export const LB_NAMESPACE = 'web';
export const HELM = process.env.PORTLB_HELM ?? '/var/cache/portlb/bin/helm';
export const VERSION = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;

/** A rendered object: what every manifest has, the rest left to the kind's own type. */
export type Manifest = KubernetesObject & { kind: string; metadata: { name: string; namespace?: string } };

export interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function run(
  cmd: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<Run> {
  return new Promise((resolve) => {
    execFile(cmd, args, { env, maxBuffer: 64 << 20, timeout: 120_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** Why podman cannot run containers on this machine, or undefined when it can (`env`: its CONTAINERS_CONF). */
export async function podmanUnusable(env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const which = await run('sh', ['-c', 'command -v podman runc']);
  // Not installed is a setup failure, not a reason to skip: scripts/setup.sh installs them.
  if (which.code !== 0) throw new Error('podman or runc is missing: run scripts/setup.sh (it installs them)');
  const info = await run('podman', ['info', '--format', '{{.Host.OCIRuntime.Name}}'], env);
  return info.code === 0 ? undefined : `podman cannot work on this machine: ${info.stderr.trim()}`;
}

export function parseManifests(text: string): Manifest[] {
  return parseAllDocuments(text)
    .map((doc) => doc.toJS() as Manifest | null)
    .filter((doc): doc is Manifest => doc !== null);
}

export async function kustomize(dir: string): Promise<Manifest[]> {
  const result = await run('kubectl', ['kustomize', dir]);
  if (result.code !== 0) throw new Error(`kubectl kustomize ${dir} failed:\n${result.stderr}`);
  return parseManifests(result.stdout);
}

/** helm prints this for the chart's files/ links into deploy/k8s/monitoring; it is not a problem. */
const SYMLINK_NOTICE = /^walk\.go:\d+: found symbolic link in path: .*\n?/gm;

export async function helmTemplate(args: readonly string[]): Promise<Run & { objects: Manifest[] }> {
  const result = await run(HELM, ['template', 'portlb', CHART, '--namespace', LB_NAMESPACE, ...args]);
  const stderr = result.stderr.replace(SYMLINK_NOTICE, '');
  return { ...result, stderr, objects: result.code === 0 ? parseManifests(result.stdout) : [] };
}

/** The chart with an overlay's settings and config: what the overlay's values.yaml says. */
export function helmOverlay(overlay: string, ...extra: string[]) {
  return helmTemplate([
    '-f',
    `${overlayDir(overlay)}/values.yaml`,
    '--set-file',
    `config=${overlayDir(overlay)}/config.yaml`,
    ...extra,
  ]);
}

export function find<T extends Manifest>(objects: readonly Manifest[], kind: string, name?: string): T {
  const found = objects.find((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  if (found === undefined) throw new Error(`no ${kind}${name ? ` ${name}` : ''} among the objects`);
  return found as T;
}

export const lbDeployment = (objects: readonly Manifest[]) =>
  find<V1Deployment & Manifest>(objects, 'Deployment');
export const nodeAgentDaemonSet = (objects: readonly Manifest[]) =>
  find<V1DaemonSet & Manifest>(objects, 'DaemonSet');

export function podSpec(workload: V1Deployment | V1DaemonSet): V1PodSpec {
  const spec = workload.spec?.template.spec;
  if (spec === undefined) throw new Error('no pod template');
  return spec;
}

export function container(workload: V1Deployment | V1DaemonSet, name: string): V1Container {
  const found = podSpec(workload).containers.find((c) => c.name === name);
  if (found === undefined) throw new Error(`no container ${name}`);
  return found;
}

/** Every container of a pod: the native sidecars (init containers) first, as the kubelet starts them. */
export function allContainers(workload: V1Deployment | V1DaemonSet): V1Container[] {
  const pod = podSpec(workload);
  return [...(pod.initContainers ?? []), ...pod.containers];
}

/**
 * The capabilities each container of the LB pods adds (every one drops ALL first), and why; the
 * manifests must ask for exactly these, and test/integration/images-run.test.ts shows each one is
 * needed by running the container without it.
 */
export const LB_CAPABILITIES: Record<string, readonly string[]> = {
  // exabgp dials out, TCP-MD5 included; the cloud modes call APIs: nothing.
  portlb: [],
  // nft and conntrack in the pod's network namespace.
  dataplane: ['NET_ADMIN'],
  // FRR's privilege separation: it sets its groups and uid (SETGID, SETUID) and keeps the rest
  // permitted for the calls that need them, refusing to start without any of them.
  bfdd: ['SETUID', 'SETGID', 'NET_BIND_SERVICE', 'NET_RAW', 'SYS_ADMIN'],
};

/**
 * The files each container's command checks when it loads the config (the `checkFiles` of its
 * `loadConfig` in src/cli): the sidecar all of them, since its exabgp reads the TCP-MD5 keys; the
 * data plane and the node agent a kubeconfig alone; `render bfdd` none. The manifests mount the
 * key Secret in exactly the containers that check the keys, and
 * test/integration/images-run.test.ts runs each container's own command with its own mounts.
 */
export const FILES_CHECKED: Record<string, readonly FileKind[]> = {
  portlb: ['tcp-md5-key', 'kubeconfig'],
  dataplane: ['kubeconfig'],
  bfdd: [],
  'node-agent': ['kubeconfig'],
};

/** Whether a container's command reads the TCP-MD5 keys, and so needs their Secret. */
export function readsKeys(c: V1Container): boolean {
  const kinds = FILES_CHECKED[c.name];
  if (kinds === undefined) throw new Error(`${c.name}: a container nobody accounted for in FILES_CHECKED`);
  return kinds.includes('tcp-md5-key');
}

/** Where a workload's containers mount Secrets (the TCP-MD5 keys in bgp mode), each path once. */
export function secretMounts(workload: V1Deployment | V1DaemonSet): string[] {
  const secrets = new Set(
    (podSpec(workload).volumes ?? []).filter((v) => v.secret !== undefined).map((v) => v.name),
  );
  const paths = allContainers(workload).flatMap((c) =>
    (c.volumeMounts ?? []).filter((m) => secrets.has(m.name)).map((m) => m.mountPath),
  );
  return [...new Set(paths)];
}

/** The Deployment or DaemonSet whose pods mount a ConfigMap. */
export function workloadMounting(
  objects: readonly Manifest[],
  configMap: string,
): V1Deployment | V1DaemonSet {
  const found = objects
    .filter(
      (o): o is (V1Deployment | V1DaemonSet) & Manifest => o.kind === 'Deployment' || o.kind === 'DaemonSet',
    )
    .find((w) => (podSpec(w).volumes ?? []).some((v) => v.configMap?.name === configMap));
  if (found === undefined) throw new Error(`no workload mounts the ConfigMap ${configMap}`);
  return found;
}

/** The key files a config names (bgp.peers[].passwordFile, the router's): what a Secret must hold. */
export function keyFiles(text: string): string[] {
  const bgp = (
    parse(text) as {
      bgp?: { peers?: { passwordFile?: string }[]; topology?: { router?: { passwordFile?: string } } };
    }
  ).bgp;
  const files = [...(bgp?.peers ?? []).map((p) => p.passwordFile), bgp?.topology?.router?.passwordFile];
  return [...new Set(files.filter((f): f is string => f !== undefined))];
}

/** The portlb configs the rendered ConfigMaps carry, by `namespace/name`. */
export function configsOf(objects: readonly Manifest[]): { where: string; name: string; text: string }[] {
  return objects
    .filter((o): o is V1ConfigMap & Manifest => o.kind === 'ConfigMap')
    .flatMap((cm) => {
      const text = cm.data?.['config.yaml'];
      const { name, namespace } = cm.metadata;
      return text === undefined ? [] : [{ where: `${namespace}/${name}`, name, text }];
    });
}

/**
 * `portlb validate` of the shipped bundle on a config's text, as a container sees it that mounts
 * Secrets at `secretDirs`: each becomes a directory here holding a placeholder for every key file
 * the config names inside it (the keys are the site's, never in the repository), and the config
 * names that directory instead. A key file outside every Secret stays missing, and validate says so.
 * `fileChecks: false` is `validate --no-file-checks`, for a config no container that reads a key
 * loads.
 */
export async function validate(
  text: string,
  secretDirs: readonly string[] = [],
  fileChecks = true,
): Promise<Run> {
  const dir = await mkdtemp(join(tmpdir(), 'portlb-deploy-'));
  try {
    let staged = text;
    for (const [i, mount] of secretDirs.entries()) {
      const here = join(dir, `secret-${i}`);
      await mkdir(here);
      for (const file of keyFiles(text).filter((f) => f.startsWith(`${mount}/`))) {
        await writeFile(join(here, file.slice(mount.length + 1)), 'placeholder\n');
      }
      staged = staged.replaceAll(`${mount}/`, `${here}/`);
    }
    const file = join(dir, 'config.yaml');
    await writeFile(file, staged);
    const checks = fileChecks ? [] : ['--no-file-checks'];
    return await run('node_modules/.bin/node', [
      'dist/cli/portlb.mjs',
      'validate',
      '--config',
      file,
      ...checks,
    ]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The checks an overlay must pass before it is applied: it renders, and every config it ships is
 * valid where it is read: with the Secrets its pods mount where a container reads the keys
 * (FILES_CHECKED), else without the file checks (validate checks every file or none; the one other
 * file, a kubeconfig, no overlay names). Returns the problems, each naming where it is, with the
 * validator's own message.
 */
export async function checkOverlay(dir: string): Promise<string[]> {
  let objects: Manifest[];
  try {
    objects = await kustomize(dir);
  } catch (error) {
    return [String(error)];
  }
  const configs = configsOf(objects);
  if (configs.length === 0) return [`${dir}: no ConfigMap carries a config.yaml`];
  const problems: string[] = [];
  for (const { where, name, text } of configs) {
    const workload = workloadMounting(objects, name);
    const keys = allContainers(workload).some(readsKeys);
    const result = await validate(text, keys ? secretMounts(workload) : [], keys);
    if (result.code !== 0) problems.push(`${dir}: ConfigMap ${where}: ${result.stderr.trim()}`);
  }
  return problems;
}

/**
 * kustomize names a generated ConfigMap `NAME-HASH` (its own hash of the object), the chart
 * `NAME-SHA256[:10]` of the config: both change with the config, so the pods roll, but they are
 * not the same string. Objects are compared with that suffix taken off ConfigMap names and the
 * volumes that mount them, and nothing else changed.
 */
const HASHED = /-[a-z0-9]{10}$/;
export function comparable(objects: readonly Manifest[]): Map<string, unknown> {
  const entries = objects.map((o) => {
    const plain = JSON.parse(
      JSON.stringify(o, (key, value: unknown) =>
        key === 'configMap' && typeof value === 'object' && value !== null && 'name' in value
          ? { ...value, name: String(value.name).replace(HASHED, '') }
          : value,
      ),
    ) as Manifest;
    if (plain.kind === 'ConfigMap') plain.metadata.name = plain.metadata.name.replace(HASHED, '');
    return [`${plain.kind} ${plain.metadata.namespace ?? '-'}/${plain.metadata.name}`, plain] as const;
  });
  return new Map(entries);
}

/** Keys of the objects that differ between two renderings (missing on one side included). */
export function differing(a: readonly Manifest[], b: readonly Manifest[]): string[] {
  const [ma, mb] = [comparable(a), comparable(b)];
  return [...new Set([...ma.keys(), ...mb.keys()])]
    .filter((k) => !isDeepStrictEqual(ma.get(k), mb.get(k)))
    .sort();
}

/** `key=value,key2=value2` as labels: the only selectors the manifests use. */
export function selectorLabels(selector: string): Record<string, string> {
  return Object.fromEntries(
    selector.split(',').map((pair) => {
      const [key, value, ...rest] = pair.trim().split('=');
      if (key === undefined || value === undefined || rest.length > 0)
        throw new Error(`not key=value: ${pair}`);
      return [key, value];
    }),
  );
}
