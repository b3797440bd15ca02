import type { Registry } from 'prom-client';
import type { Config } from '../config/load.js';
import type { DataPlaneConfig } from '../config/schema.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../runtime/logger.js';
import type { BackendSource } from '../sources/backends.js';
import type { DataPlaneCheck } from './checks.js';
import { cutFlows } from './conntrack.js';
import { stepDrains } from './drain.js';
import { createDataPlaneMetrics } from './metrics.js';
import { checkBackends, type PlaneBackend, type PlaneModel, type PlaneService, planeModel } from './model.js';
import { type ApplyOutcome, PreviousRulesServeError, type RuleWriter } from './port.js';
import {
  type DataPlaneStatus,
  describeStatus,
  notReadyReasons,
  type ServiceState,
  type WriterStatus,
} from './status.js';
import { sysctlProblems } from './sysctl.js';
import type { DataPlaneSystem } from './system.js';
import { backendLimits } from './tunnel.js';

export interface DataPlaneControllerOptions {
  readonly config: Pick<Config, 'owner' | 'services'>;
  readonly dataPlane: DataPlaneConfig;
  /** Started (initial list done) before the controller's first sync: an empty list removes the rules. */
  readonly backends: BackendSource;
  /** From `createWriters`: nftables, or nftables (source NAT) + keepalived for ipvs. */
  readonly writers: readonly RuleWriter[];
  readonly system: DataPlaneSystem;
  readonly logger: Logger;
  readonly registry: Registry;
  /** Asks the caller's loop for a sync: backends changed, a drain time ended. */
  readonly trigger?: (why: string) => void;
  readonly now?: () => number;
  /** Ends a drained backend's established flows; conntrack's NAT entries when absent. */
  readonly cut?: (service: PlaneService, backend: PlaneBackend) => Promise<number>;
  /** Verified after each sync (the tunnel to each backend, agreement with the other LBs). */
  readonly checks?: readonly DataPlaneCheck[];
}

export type { DataPlaneStatus } from './status.js';

export interface SyncOutcome {
  readonly model?: PlaneModel;
  readonly writers: readonly { readonly writer: string; readonly outcome: ApplyOutcome }[];
  /** Backends whose drain time ended in this sync, with the conntrack entries deleted. */
  readonly cut: readonly {
    readonly service: string;
    readonly backend: PlaneBackend;
    readonly flows: number;
  }[];
}

export interface DataPlaneController {
  /** Checks the kernel (ipvs: says at start when it is missing) and follows backend changes. */
  start(): Promise<void>;
  /** One level-triggered pass: backends -> model -> rules, written only where they differ. Safe to repeat. */
  sync(why: string): Promise<SyncOutcome>;
  /** Reasons nothing can serve (for /readyz); empty while rules in place serve. */
  notReady(): string[];
  /** Resolves when the checks started by the last sync (tunnel, Maglev agreement) are done. */
  checked(): Promise<void>;
  status(): DataPlaneStatus;
  stop(): void;
}

/**
 * The data-plane controller (issue 10): keeps the LB's rules equal to the services' ready
 * backends. Either wiring works: the sidecar or `portlb dataplane` runs `sync` from its loop and
 * shows `notReady()` / `status()` on /readyz.
 */
export function createDataPlaneController(options: DataPlaneControllerOptions): DataPlaneController {
  const { config, dataPlane, system } = options;
  const log = options.logger.child({ component: 'dataplane', kind: dataPlane.kind });
  const metrics = createDataPlaneMetrics(options.registry);
  const now = options.now ?? Date.now;
  const cutFlowsOf =
    options.cut ??
    ((service: PlaneService, backend: PlaneBackend) => cutFlows(system.run, service.frontends, backend));
  const checks = options.checks ?? [];
  const drainMs = dataPlane.backendDrainSeconds * 1000;
  const limits = backendLimits(dataPlane);
  const services = new Map<string, ServiceState>(
    config.services.map((s) => [s.name, { ready: [], draining: [], toCut: [] }]),
  );
  const writers = new Map<string, WriterStatus>(options.writers.map((w) => [w.name, { served: false }]));
  let unavailable: string | undefined;
  let sysctl: string[] = [];
  let synced = false;
  let timer: NodeJS.Timeout | undefined;
  let unsubscribe = () => {};

  function takeBackends(): void {
    const at = now();
    for (const service of config.services) {
      const state = services.get(service.name)!;
      const check = checkBackends(service, options.backends.backends(service.name), limits);
      let ready = state.ready;
      if (check.ok) {
        if (state.refused)
          log.info({ event: 'backends_accepted', service: service.name }, 'backend list accepted');
        ready = check.backends;
        delete state.refused;
        metrics.listRefused.set({ service: service.name }, 0);
      } else {
        if (state.refused?.join('\n') !== check.problems.join('\n')) {
          metrics.refusedLists.inc({ service: service.name });
          log.warn(
            { event: 'backends_refused', service: service.name, problems: check.problems },
            `backend list of ${service.name} refused, previous rules kept: ${check.problems.join('; ')}`,
          );
        }
        state.refused = check.problems;
        metrics.listRefused.set({ service: service.name }, 1);
      }
      const step = stepDrains({
        previous: state.ready,
        current: ready,
        draining: state.draining,
        now: at,
        drainMs,
      });
      state.ready = ready;
      state.draining = [...step.draining];
      state.toCut.push(...step.expired);
      metrics.backends.set({ service: service.name, state: 'ready' }, ready.length);
      metrics.backends.set({ service: service.name, state: 'draining' }, step.draining.length);
    }
  }

  async function write(writer: RuleWriter, model: PlaneModel): Promise<ApplyOutcome> {
    const stopTimer = metrics.applySeconds.startTimer({ writer: writer.name });
    const previous = writers.get(writer.name)!;
    try {
      const outcome = await writer.sync(model);
      const wrote = outcome.action === 'applied';
      if (wrote) metrics.lastApplied.set({ writer: writer.name }, now() / 1000);
      writers.set(writer.name, {
        outcome: outcome.action,
        reason: outcome.reason,
        ...(outcome.notServing && { notServing: outcome.notServing }),
        served: previous.served || outcome.action !== 'refused',
        ...(wrote
          ? { lastAppliedAt: new Date(now()).toISOString() }
          : previous.lastAppliedAt && { lastAppliedAt: previous.lastAppliedAt }),
      });
      metrics.syncs.inc({ writer: writer.name, outcome: outcome.action });
      const level =
        outcome.action === 'refused' ? 'error' : outcome.action === 'unchanged' ? 'debug' : 'info';
      log[level](
        {
          event: `rules_${outcome.action}`,
          writer: writer.name,
          reason: outcome.reason.code,
          detail: outcome.reason.detail,
        },
        `${writer.name}: ${outcome.action}${outcome.reason.detail ? ` (${outcome.reason.detail})` : ''}`,
      );
      return outcome;
    } catch (error) {
      metrics.syncs.inc({ writer: writer.name, outcome: 'failed' });
      const served = previous.served || error instanceof PreviousRulesServeError;
      writers.set(writer.name, { ...previous, served, lastError: errorMessage(error) });
      log.error(
        {
          event: 'rules_failed',
          writer: writer.name,
          err: errorMessage(error),
          oldRulesKept: served,
        },
        `${writer.name}: writing the rules failed; the previous rules stay`,
      );
      throw error;
    } finally {
      stopTimer();
    }
  }

  async function cutDrained(model: PlaneModel): Promise<SyncOutcome['cut']> {
    // ipvs ends a removed real server's flows itself; only conntrack NAT keeps them after the rules.
    if (dataPlane.kind !== 'nftables') {
      for (const state of services.values()) state.toCut = [];
      return [];
    }
    const cut: { service: string; backend: PlaneBackend; flows: number }[] = [];
    for (const service of model.services) {
      const state = services.get(service.name)!;
      const left: PlaneBackend[] = [];
      for (const backend of state.toCut) {
        try {
          const flows = await cutFlowsOf(service, backend);
          metrics.cuts.inc({ result: 'ok' }, flows);
          cut.push({ service: service.name, backend, flows });
          log.info(
            {
              event: 'drain_over',
              service: service.name,
              backend: `${backend.address}:${backend.port}`,
              flows,
            },
            'backend drain time over: established flows cut',
          );
        } catch (error) {
          left.push(backend);
          metrics.cuts.inc({ result: 'failed' });
          log.warn(
            { event: 'drain_cut_failed', service: service.name, err: errorMessage(error) },
            'cutting flows failed',
          );
        }
      }
      state.toCut = left;
    }
    return cut;
  }

  function scheduleDrainEnd(): void {
    clearTimeout(timer);
    timer = undefined;
    const deadlines = [...services.values()].flatMap((s) => s.draining.map((d) => d.since + drainMs));
    if (deadlines.length === 0 || options.trigger === undefined) return;
    const trigger = options.trigger;
    timer = setTimeout(() => trigger('backend drain time over'), Math.max(0, Math.min(...deadlines) - now()));
    timer.unref();
  }

  // Checks run beside the loop, one pass at a time, on the latest model: a backend that does not
  // answer costs its probe's timeout, which must not delay the next rule change.
  let checking: Promise<void> = Promise.resolve();
  let nextCheck: PlaneModel | undefined;
  let checkRunning = false;
  function startChecks(model: PlaneModel): void {
    if (checks.length === 0) return;
    for (const check of checks) check.observe?.(model);
    nextCheck = model;
    if (checkRunning) return;
    checkRunning = true;
    checking = (async () => {
      const take = (): PlaneModel | undefined => {
        const m = nextCheck;
        nextCheck = undefined;
        return m;
      };
      for (let m = take(); m !== undefined; m = take()) {
        for (const check of checks) {
          await check
            .run(m)
            .catch((error: unknown) =>
              log.warn(
                { event: 'check_failed', check: check.name, err: errorMessage(error) },
                'data-plane check failed',
              ),
            );
        }
        metrics.ready.set(controller.notReady().length === 0 ? 1 : 0);
      }
      checkRunning = false;
    })();
  }

  const controller: DataPlaneController = {
    async start() {
      for (const writer of options.writers) {
        const why = await writer.unavailable?.();
        if (why !== undefined) unavailable = why;
      }
      if (unavailable !== undefined) log.error({ event: 'unavailable' }, unavailable);
      const trigger = options.trigger;
      if (trigger)
        unsubscribe = options.backends.onChange((service) => trigger(`backends of ${service} changed`));
    },

    async sync(why) {
      if (unavailable !== undefined) {
        metrics.ready.set(0);
        return { writers: [], cut: [] };
      }
      takeBackends();
      const model = planeModel(config, dataPlane, (name) => {
        const state = services.get(name);
        return state && { backends: state.ready, draining: state.draining.map((d) => d.backend) };
      });
      sysctl = await sysctlProblems(system, model);
      const done: SyncOutcome['writers'][number][] = [];
      try {
        // Writers come in order, each building on the ones before (the tunnel's device, then the
        // rules that forward into it): after a refusal the later ones keep what they had.
        for (const writer of options.writers) {
          const outcome = await write(writer, model);
          done.push({ writer: writer.name, outcome });
          if (outcome.action === 'refused') {
            const skipped = options.writers.slice(options.writers.indexOf(writer) + 1).map((w) => w.name);
            if (skipped.length > 0)
              log.warn(
                { event: 'writers_skipped', after: writer.name, skipped },
                `${skipped.join(', ')} not written: ${writer.name} refused`,
              );
            break;
          }
        }
      } finally {
        synced = true;
        scheduleDrainEnd();
        metrics.ready.set(controller.notReady().length === 0 ? 1 : 0);
      }
      const cutNow = await cutDrained(model);
      startChecks(model);
      log.debug({ event: 'synced', trigger: why }, 'data plane synced');
      return { model, writers: done, cut: cutNow };
    },

    notReady: () => [
      ...notReadyReasons({ unavailable, synced, sysctl, writers }),
      ...(unavailable === undefined ? checks.flatMap((c) => c.notReady()) : []),
    ],

    status: () => describeStatus(dataPlane, writers, services, checks),

    checked: () => checking,

    stop() {
      clearTimeout(timer);
      unsubscribe();
    },
  };
  return controller;
}
