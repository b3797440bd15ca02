import { dirname, resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import { run } from '../system/exec.js';
import { VERSION } from '../system/version.js';

/*
 * `lab up --images`: the LB pods' sidecar and data plane run from the images scripts/build-images.sh
 * builds, with podman, in the LB pod's network namespace, as deploy/k8s runs them (the sidecar as
 * uid 65532 with no capability, the data plane as root with NET_ADMIN alone; a read-only root, no
 * privilege escalation).
 * The lab still starts and stops them by pid: the recorded process is `podman run` in the
 * foreground, which passes SIGTERM on to the container; SIGKILL of the pod reaches the container's
 * processes, which live in the pod's namespace.
 */

/** The user every portlb container runs as (deploy/k8s, the Dockerfiles). */
export const IMAGE_UID = 65532;

export interface LabImages {
  /** portlb alone: the data plane. */
  readonly portlb: string;
  /** portlb, exabgp and FRR: the bgp sidecar. */
  readonly exabgp: string;
}

export function labImages(version = VERSION): LabImages {
  return { portlb: `localhost/portlb:${version}`, exabgp: `localhost/portlb-exabgp:${version}` };
}

/** Refuses to start without the images, naming the command that builds them. */
export async function assertImages(images: LabImages, env: NodeJS.ProcessEnv): Promise<void> {
  for (const image of [images.portlb, images.exabgp]) {
    const found = await run(['podman', 'image', 'exists', image], { env }).then(
      () => true,
      () => false,
    );
    if (!found) throw new ConfigError(`--images: ${image} is not built; run scripts/build-images.sh`);
  }
}

export interface ContainerSpec {
  /** The lab's label value (its namespace prefix): `lab down` removes what carries it. */
  readonly lab: string;
  readonly name: string;
  readonly ns: string;
  readonly image: string;
  /** The pod spec's runAsUser: 65532, or 0 where it adds capabilities (Kubernetes grants them to root only). */
  readonly uid: number;
  readonly capabilities: readonly string[];
  /** `host:container[:ro]` binds. */
  readonly mounts: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  /** The container's arguments (its entrypoint is portlb). */
  readonly args: readonly string[];
}

const LABEL = 'io.portlb.lab';

/** `podman run` in the foreground for one container of an LB pod. */
export function containerArgv(c: ContainerSpec): string[] {
  return [
    'podman',
    'run',
    '--rm',
    '--replace',
    '--name',
    c.name,
    '--label',
    `${LABEL}=${c.lab}`,
    '--network',
    `ns:/run/netns/${c.ns}`,
    '--user',
    `${c.uid}:${c.uid}`,
    '--read-only',
    '--read-only-tmpfs=false',
    '--security-opt',
    'no-new-privileges',
    '--cap-drop=ALL',
    ...c.capabilities.map((cap) => `--cap-add=${cap}`),
    ...c.mounts.flatMap((m) => ['-v', m]),
    ...Object.entries(c.env).flatMap(([k, v]) => ['-e', `${k}=${v}`]),
    c.image,
    ...c.args,
  ];
}

/**
 * podman's environment: its config for this host (deploy/image/containers.conf beside the shipped
 * CLI, dist/cli/portlb.mjs: runc and fixed ulimits, DESIGN.md's two quirks) unless one is set.
 */
export function podmanEnv(cliScript: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    CONTAINERS_CONF:
      process.env.CONTAINERS_CONF ?? resolve(dirname(cliScript), '../../deploy/image/containers.conf'),
  };
}

/** Removes every container of this lab, running or not (after a SIGKILLed `podman run`, say). */
export async function removeLabContainers(lab: string, env: NodeJS.ProcessEnv): Promise<number> {
  const listed = await run(['podman', 'ps', '--all', '--quiet', '--filter', `label=${LABEL}=${lab}`], {
    env,
  }).catch(() => '');
  const ids = listed.split('\n').filter((id) => id.trim() !== '');
  if (ids.length > 0) await run(['podman', 'rm', '--force', '--time', '0', ...ids], { env }).catch(() => '');
  return ids.length;
}
