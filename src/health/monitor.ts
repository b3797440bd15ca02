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

/** Probes one service's endpoints every interval and keeps its rise/fall gate. */
export function createHealthMonitor(options: MonitorOptions) {
  const service = options.name;
  const log = options.logger.child({ component: 'health', service });
  const gate = createGate(options);
  const abort = new AbortController();
  let running: Promise<void> | undefined;
  options.metrics.healthy.set({ service }, 0);

  let lastGood: string | undefined;

  async function step(): Promise<void> {
    // The endpoint that answered last time goes first and alone: a healthy data plane costs one
    // connection per interval, whatever the number of backends. Only when it does not answer are
    // all the others probed at once (the first answer wins), so the gate still fails only when
    // no endpoint answers at all.
    const endpoints = options.endpoints();
    const good = lastGood === undefined ? undefined : endpoints.find((e) => keyOf(e) === lastGood);
    let result = good ? await options.probe.any([good]) : undefined;
    if (!result?.ok) {
      const rest = good ? endpoints.filter((e) => e !== good) : endpoints;
      if (rest.length > 0 || result === undefined) result = await options.probe.any(rest);
    }
    lastGood = result.ok && result.endpoint ? keyOf(result.endpoint) : undefined;
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
