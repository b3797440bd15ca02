import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/runtime/metrics.js';
import { type HealthServer, type Readiness, startHealthServer } from '../../src/runtime/server.js';

describe('startHealthServer', () => {
  let server: HealthServer;
  let readiness: Readiness = { ready: false, reasons: ['no session established'] };
  const base = () => `http://127.0.0.1:${server.address.port}`;

  beforeAll(async () => {
    const metrics = createMetrics({ defaults: false });
    metrics.reconciles.inc({ result: 'ok' });
    server = await startHealthServer({
      listen: '127.0.0.1:0',
      registry: metrics.registry,
      live: () => true,
      readiness: () => readiness,
    });
  });
  afterAll(() => server.close());

  it('answers /healthz', async () => {
    const response = await fetch(`${base()}/healthz`);
    expect(response.status).toBe(200);
  });

  it('answers /readyz with the reasons it is not ready, then 200', async () => {
    const notReady = await fetch(`${base()}/readyz`);
    expect(notReady.status).toBe(503);
    expect(await notReady.json()).toEqual({ ready: false, reasons: ['no session established'] });
    readiness = { ready: true, reasons: [] };
    expect((await fetch(`${base()}/readyz`)).status).toBe(200);
  });

  it('serves Prometheus metrics', async () => {
    const text = await (await fetch(`${base()}/metrics`)).text();
    expect(text).toContain('portlb_reconciles_total{result="ok"} 1');
  });

  it('404s anything else', async () => {
    expect((await fetch(`${base()}/nope`)).status).toBe(404);
  });
});
