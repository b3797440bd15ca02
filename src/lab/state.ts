import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '../errors.js';

/** A process the lab started, killed by pid at `down` once its cmdline still shows `match`. */
export interface LabProcess {
  readonly name: string;
  readonly pid: number;
  readonly ns: string;
  /** A substring of /proc/PID/cmdline, so a recycled pid is never killed by mistake. */
  readonly match: string;
}

export interface LabService {
  readonly name: string;
  readonly vip: string;
}

export interface LabLb {
  readonly id: string;
  readonly service: string;
  readonly node: number;
  readonly slot: number;
  readonly podIp: string;
  readonly configFile: string;
}

export interface LabState {
  readonly version: 1;
  readonly prefix: string;
  readonly startedAt: string;
  phase: 'starting' | 'up' | 'failed';
  nodes: number;
  /** The backend pods that exist (their indices: web1 is 1), in the order they came. */
  backends: number[];
  holdTime: number;
  /** Every LB's drain.seconds: how long it serves established flows after the router left it. */
  readonly drainSeconds?: number | undefined;
  /** false: the LBs exit after exabgp's withdraw ack and the drain, without asking the router (an ablation). */
  readonly confirmWithdraw?: boolean | undefined;
  /** LBs whose data plane runs with `nft -f` failing (`lab fault LB nft-fails`). */
  dataPlaneFaults?: string[];
  /** The emulated NIC: a tc rate limit on each node's link (Mbit/s), none when absent. */
  linkMbit?: number | undefined;
  /** A web server's capacity (the paper's Fig. 10): a tc rate limit on each backend's link, Mbit/s. */
  backendMbit?: number | undefined;
  /** Every namespace, recorded before it is created: `down` can always find it. */
  namespaces: string[];
  processes: LabProcess[];
  services: LabService[];
  lbs: LabLb[];
  /** Nodes whose link to the node network is down (silent node death). */
  deadNodes: number[];
  /** The TCP-MD5 key every LB speaker and route reflector shares; no authentication when absent. */
  readonly md5KeyFile?: string | undefined;
  /** BFD between each LB pod's bfdd and both route reflectors (bgp.bfd's interval unless given). */
  readonly bfd?: { readonly intervalMs?: number | undefined } | undefined;
  /** The LB pods' sidecar and data plane run from the built images under podman (src/lab/images.ts). */
  readonly images?: boolean | undefined;
}

export const STATE_FILE = 'lab.json';
export const DEFAULT_LAB_DIR = '/run/portlb-lab';

export function labDir(option: string | undefined): string {
  return option ?? process.env.PORTLB_LAB_DIR ?? DEFAULT_LAB_DIR;
}

export async function readState(dir: string): Promise<LabState | undefined> {
  let text: string;
  try {
    text = await readFile(join(dir, STATE_FILE), 'utf8');
  } catch {
    return undefined;
  }
  const parsed: unknown = JSON.parse(text);
  if (typeof parsed !== 'object' || parsed === null || (parsed as { version?: unknown }).version !== 1) {
    throw new ConfigError(`${join(dir, STATE_FILE)} is not a portlb lab state file`);
  }
  return parsed as LabState;
}

/**
 * The state on disk, rewritten (write + rename) after every change, in order, so a crash of
 * the lab at any point leaves a file that names everything created so far.
 */
export interface StateStore {
  readonly dir: string;
  readonly state: LabState;
  update(change: (state: LabState) => void): Promise<void>;
  remove(): Promise<void>;
}

export async function openStore(dir: string, state: LabState): Promise<StateStore> {
  await mkdir(dir, { recursive: true, mode: 0o755 });
  const file = join(dir, STATE_FILE);
  let chain: Promise<void> = Promise.resolve();
  const persist = (): Promise<void> => {
    const snapshot = JSON.stringify(state, null, 2);
    chain = chain.then(async () => {
      await writeFile(`${file}.tmp`, snapshot);
      await rename(`${file}.tmp`, file);
    });
    return chain;
  };
  await persist();
  return {
    dir,
    state,
    update: (change) => {
      change(state);
      return persist();
    },
    remove: async () => {
      await chain;
      await rm(file, { force: true });
    },
  };
}
