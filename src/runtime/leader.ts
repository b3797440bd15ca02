/**
 * One writer for modes that need one (AWS). client-go's own docs say leader election does not
 * guarantee a single leader (no fencing), so callers must stay safe when two act at once: recompute
 * from what is observed and touch only owned routes.
 */
export interface LeaderElector {
  /** True while this process holds the lease and it has not expired by its own clock. */
  isLeader(): boolean;
  /** Current holder identity as last seen, if any. */
  holder(): string | undefined;
  /** Called on every change of leadership (true: became leader). */
  onChange(listener: (leading: boolean) => void): () => void;
  start(): Promise<void>;
  /** Stops renewing; with `release`, gives the lease up so the next candidate takes over at once. */
  stop(options?: { release?: boolean }): Promise<void>;
}

/** For single-process setups (static LB boxes, tests): always the leader. */
export function alwaysLeader(identity = 'self'): LeaderElector {
  return {
    isLeader: () => true,
    holder: () => identity,
    onChange: () => () => {},
    start: async () => {},
    stop: async () => {},
  };
}
