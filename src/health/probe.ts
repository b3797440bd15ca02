import { connect } from 'node:net';

/** Something to probe: a backend, or the VIP through the local data plane. */
export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

export interface ProbeResult {
  readonly ok: boolean;
  /** What happened, for the log and for the reason of a withdraw. */
  readonly detail: string;
}

export interface ProbeDeps {
  /** Resolves once a TCP connection is open (and closes it); rejects otherwise. */
  readonly tcpConnect: (endpoint: Endpoint, signal: AbortSignal) => Promise<void>;
  /** Resolves with the HTTP status of GET url. */
  readonly httpGet: (url: string, signal: AbortSignal) => Promise<number>;
  /** The clock for the timeout, injectable so that tests need not wait. */
  readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
}

export interface ProbeSpec {
  readonly type: 'tcp' | 'http';
  readonly path: string;
  readonly timeoutMs: number;
}

export const realProbeDeps: ProbeDeps = {
  tcpConnect: (endpoint, signal) =>
    new Promise((resolve, reject) => {
      const socket = connect({ host: endpoint.host, port: endpoint.port, signal });
      socket.once('connect', () => {
        socket.destroy();
        resolve();
      });
      socket.once('error', reject);
    }),
  httpGet: async (url, signal) => {
    const response = await fetch(url, { signal, redirect: 'manual', headers: { connection: 'close' } });
    await response.body?.cancel();
    return response.status;
  },
  sleep: (ms, signal) =>
    new Promise((resolve) => {
      // The monitor's signal lives as long as the monitor: remove our listener every interval, or
      // one closure per probe would pile up on it.
      const onAbort = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal.addEventListener('abort', onAbort, { once: true });
    }),
};

function hostPort(e: Endpoint): string {
  return e.host.includes(':') ? `[${e.host}]:${e.port}` : `${e.host}:${e.port}`;
}

/**
 * One probe of one endpoint, bounded by the timeout. HTTP counts 2xx and 3xx as healthy: a
 * redirect still proves the data plane reaches a live server.
 */
export function createProbe(spec: ProbeSpec, deps: ProbeDeps = realProbeDeps) {
  async function once(endpoint: Endpoint): Promise<ProbeResult> {
    const abort = new AbortController();
    const target = hostPort(endpoint);
    const attempt = async (): Promise<ProbeResult> => {
      if (spec.type === 'tcp') {
        await deps.tcpConnect(endpoint, abort.signal);
        return { ok: true, detail: `tcp ${target} connected` };
      }
      const url = `http://${target}${spec.path}`;
      const status = await deps.httpGet(url, abort.signal);
      return { ok: status >= 200 && status < 400, detail: `GET ${url} -> ${status}` };
    };
    const timeout = deps.sleep(spec.timeoutMs, abort.signal).then(
      (): ProbeResult => ({
        ok: false,
        detail: `${spec.type} ${target} timed out after ${spec.timeoutMs} ms`,
      }),
    );
    try {
      return await Promise.race([
        attempt().catch((error: unknown) => ({
          ok: false,
          detail: `${spec.type} ${target} failed: ${(error as Error).message ?? String(error)}`,
        })),
        timeout,
      ]);
    } finally {
      abort.abort();
    }
  }

  /**
   * Healthy when at least one endpoint answers: the data plane can serve someone. All are probed
   * at once and the first answer decides, without waiting for the others to time out.
   */
  function any(endpoints: readonly Endpoint[]): Promise<ProbeResult & { endpoint?: Endpoint }> {
    if (endpoints.length === 0)
      return Promise.resolve({ ok: false, detail: 'no backend to probe (none is ready)' });
    return new Promise((resolve) => {
      const failures: string[] = [];
      for (const endpoint of endpoints) {
        void once(endpoint).then((result) => {
          if (result.ok) return resolve({ ...result, endpoint });
          failures.push(result.detail);
          if (failures.length < endpoints.length) return;
          // A thousand backends down must not make a thousand-part reason: the first few say it.
          const shown = failures.slice(0, 3).join('; ');
          const more = failures.length > 3 ? `; and ${failures.length - 3} more failed` : '';
          resolve({ ok: false, detail: `${shown}${more}` });
        });
      }
    });
  }

  return { once, any };
}

export type Probe = ReturnType<typeof createProbe>;
