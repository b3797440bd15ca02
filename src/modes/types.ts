import type { Config } from '../config/load.js';
import type { Mode } from '../core/mode.js';
import type { Provider, Source } from '../providers/types.js';
import type { Logger } from '../runtime/logger.js';
import type { Metrics } from '../runtime/metrics.js';
import type { KubernetesRuntime } from '../sources/kubernetes/runtime.js';

export interface ModeDeps {
  readonly config: Config;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Asks the loop for a reconcile (debounced); sources and probes call it when something changed. */
  readonly trigger: (reason: string) => void;
  /**
   * Present when the config has a `kubernetes` section: desired state from the LB pods, backends
   * from EndpointSlices, a Lease elector (aws), Events. The sidecar starts and stops it.
   */
  readonly kubernetes?: KubernetesRuntime | undefined;
  /** The Node's `spec.providerID` when the sidecar already knows it (`--provider-id`, or read for `auto`). */
  readonly providerId?: string | undefined;
}

/**
 * What the sidecar runs for one mode. The sidecar owns the loop, the health server and the
 * signals; a mode brings its source, its provider and its own lifecycle (probes, peers, leases).
 */
export interface ModeRuntime {
  readonly mode: Mode;
  readonly source: Source;
  readonly provider: Provider;
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

export type ModeFactory = (deps: ModeDeps) => Promise<ModeRuntime>;
