import { Counter, Gauge, type Registry } from 'prom-client';
import type { Logger } from '../runtime/logger.js';
import { createGate, type GateState } from './gate.js';
import type { Endpoint, Probe } from './probe.js';

export interface MonitorOptions {
  readonly name: string;
  /** Read before every probe: backends come and go. */
  readonly endpoints: () => readonly Endpoint[];
  readonly probe: Probe;
  readonly rise: number;
  readonly fall: number;
  readonly intervalMs: number;
  /** How many endpoints one probe round tries at most (default 3). */
  readonly perRound?: number;
  readonly logger: Logger;
  readonly metrics: HealthMetrics;
  /** Called when the gate flips; the BGP mode schedules a reconcile from it. */
  readonly onChange: (state: GateState) => void;
  readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
}

export function createHealthMetrics(registry: Registry) {
  const registers = [registry];
  return {
    healthy: new Gauge({
      name: 'portlb_health_healthy',
      help: 'Whether the health gate of a service passes (1) or not (0); its VIP is announced only while it does.',
      labelNames: ['service'] as const,
      registers,
    }),
    probes: new Counter({
      name: 'portlb_health_probes_total',
      help: 'Health probes run, by service and result (ok, fail).',
      labelNames: ['service', 'result'] as const,
      registers,
    }),
    transitions: new Counter({
      name: 'portlb_health_transitions_total',
      help: 'Health gate flips, by service and new state (healthy, unhealthy).',
      labelNames: ['service', 'to'] as const,
      registers,
    }),
  };
}

export type HealthMetrics = ReturnType<typeof createHealthMetrics>;

const keyOf = (e: Endpoint) => `${e.host}|${e.port}`;

/**
 * The next `count` endpoints in turn from `cursor`, skipping `skip`, and where the turn goes on
 * from: over successive rounds every endpoint gets probed.
 */
export function nextInTurn(
  endpoints: readonly Endpoint[],
  cursor: number,
  count: number,
  skip?: Endpoint,
): { picked: Endpoint[]; cursor: number } {
  const picked: Endpoint[] = [];
  let i = 0;
  for (; i < endpoints.length && picked.length < count; i++) {
    const e = endpoints[(cursor + i) % endpoints.length] as Endpoint;
    if (e !== skip) picked.push(e);
  }
  return { picked, cursor: endpoints.length === 0 ? 0 : (cursor + i) % endpoints.length };
}

/** Probes one service's endpoints every interval and keeps its rise/fall gate. */
export function createHealthMonitor(options: MonitorOptions) {
  const service = options.name;
  const log = options.logger.child({ component: 'health', service });
  const gate = createGate(options);
  const abort = new AbortController();
  let running: Promise<void> | undefined;
  options.metrics.healthy.set({ service }, 0);

  const perRound = options.perRound ?? 3;
  let lastGood: string | undefined;
  let cursor = 0;

  async function step(): Promise<void> {
    // The endpoint that answered last time goes first and alone: a healthy data plane costs one
    // connection per interval, whatever the number of backends. Only when it does not answer does
    // the round try `perRound` others in turn, so one backend going away does not fail the round.
    const endpoints = options.endpoints();
    const good = lastGood === undefined ? undefined : endpoints.find((e) => keyOf(e) === lastGood);
    let probed = good ? await options.probe.any([good]) : undefined;
    let tried = good ? 1 : 0;
    if (!probed?.ok) {
      const turn = nextInTurn(endpoints, cursor, perRound, good);
      cursor = turn.cursor;
      tried += turn.picked.length;
      if (turn.picked.length > 0 || probed === undefined) probed = await options.probe.any(turn.picked);
    }
    lastGood = probed.ok && probed.endpoint ? keyOf(probed.endpoint) : undefined;
    const result =
      probed.ok || tried >= endpoints.length
        ? probed
        : {
            ok: false,
            detail: `none of ${tried} of ${endpoints.length} endpoints answered: ${probed.detail}`,
          };
    options.metrics.probes.inc({ service, result: result.ok ? 'ok' : 'fail' });
    const state = gate.record(result.ok, result.detail);
    log.debug({ event: 'probe', ok: result.ok, detail: result.detail }, 'probe');
    if (!state.changed) return;
    const to = state.healthy ? 'healthy' : 'unhealthy';
    options.metrics.healthy.set({ service }, state.healthy ? 1 : 0);
    options.metrics.transitions.inc({ service, to });
    log.info({ event: 'health', to, reason: state.reason }, `service ${service} is ${to}`);
    options.onChange(state);
  }

  async function loop(): Promise<void> {
    while (!abort.signal.aborted) {
      await step();
      if (abort.signal.aborted) return;
      await options.sleep(options.intervalMs, abort.signal);
    }
  }

  return {
    step,
    start(): void {
      running ??= loop();
    },
    async stop(): Promise<void> {
      abort.abort();
      await running;
    },
    state: (): GateState => gate.state(),
  };
}

export type HealthMonitor = ReturnType<typeof createHealthMonitor>;
