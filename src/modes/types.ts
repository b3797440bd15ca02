import type { z } from 'zod';
import type { Config } from '../config/load.js';
import type { Mode } from '../core/mode.js';
import type { Candidate, Cardinality, Change } from '../core/model.js';
import type { Registry, Source } from '../core/ports.js';
import type { NodeView, PodView } from '../kube/objects.js';
import type { Logger } from '../runtime/logger.js';
import type { Metrics } from '../runtime/metrics.js';
import type { KubernetesContext } from '../sources/kubernetes/context.js';

/** What a change means on the LB pod, as a Kubernetes Event. */
export interface ChangeEvent {
  readonly reason: string;
  readonly action: string;
  readonly note: string;
}

/**
 * Everything that differs between modes, declared in one place. Nothing outside `src/modes`,
 * `src/config` and `src/cli` compares a mode's name: the rest of the code asks its descriptor.
 * Descriptors are cheap to load; `create` imports the mode's SDKs and plumbing only when called.
 */
export interface ModeDescriptor {
  readonly name: Mode;
  /** `multi`: every healthy LB is a target (ECMP); `single`: one target per destination. */
  readonly cardinality: Cardinality;
  /** A VIP with no healthy target: `keep` its route (single: never delete without a replacement) or `withdraw` it. */
  readonly whenNoneHealthy: 'keep' | 'withdraw';
  /** `leader`: one writer for all LBs, elected by a Lease; `each`: every LB writes its own routes. */
  readonly writers: 'leader' | 'each';
  /** Which LB pods the Kubernetes source makes candidates by default: only this pod, or all. */
  readonly candidates: 'self' | 'all';
  /** With `self`: is this pod a candidate only once its own Ready condition is True? */
  awaitOwnReady(config: Config): boolean;
  /** The tables the config alone names (`portlb plan`, `sidecar --state`). */
  configuredTables(config: Config): string[];
  /**
   * The form of this mode's target ids, as a field schema (a next-hop address, an ENI id, an
   * instance URL): what an observed route read from a file (`portlb plan --observed`) must carry.
   */
  readonly targetField: z.ZodType<string>;
  /**
   * The one spelling of a target that is compared, where the field allows several (an instance
   * URL short or full): absent when every accepted form is already the one compared.
   */
  canonicalTarget?(target: string): string;
  /** What a static `targets` entry contributes. */
  staticCandidate(target: Config['targets'][number]): Candidate;
  /** The target id of an LB pod on a node, from what the Node says (undefined: not known yet). */
  targetOf(pod: PodView, node: NodeView): string | undefined;
  /** How a change reads on the LB pod's Events. */
  changeEvent(change: Change): ChangeEvent;
  /** Builds the mode's parts for the sidecar. */
  create(deps: ModeDeps): Promise<ModeParts>;
}

export interface ModeDeps {
  readonly config: Config;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Asks the loop for a reconcile (debounced); sources and probes call it when something changed. */
  readonly trigger: (reason: string) => void;
  /**
   * Present when the config has a `kubernetes` section: desired state from the LB pods, backends
   * from EndpointSlices, a Lease elector (modes with one writer), Events. The sidecar starts and stops it.
   */
  readonly kubernetes?: KubernetesContext | undefined;
  /** The Node's `spec.providerID` when the sidecar already knows it (`--provider-id`, or read for `auto`). */
  readonly providerId?: string | undefined;
}

/**
 * What the sidecar runs for one mode. The sidecar owns the loop, the health server and the
 * signals; a mode brings its source, its registry (ownership around its provider) and its own
 * lifecycle (probes, peers, leases, candidacy).
 */
export interface ModeParts<View = unknown> {
  readonly source: Source<View>;
  readonly registry: Registry<View>;
  /** Starts background work (exabgp, probes, informers, leader election). */
  start?(): Promise<void>;
  /** Whether this process may write now (a mode with one writer answers from its Lease). */
  canWrite?(): boolean;
  /** Reasons this process is not ready; empty when ready. */
  notReady?(): string[];
  /** Extra state for `/readyz`. */
  status?(): Record<string, unknown>;
  /** The orderly part of SIGTERM: withdraw, confirm, drain. Called once, before the loop stops. */
  shutdown?(): Promise<void>;
  /** Releases everything `start` acquired. */
  close?(): Promise<void>;
}
