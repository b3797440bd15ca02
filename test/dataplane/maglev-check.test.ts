import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createMaglevCheck, readPeerReport } from '../../src/dataplane/maglev-check.js';
import { maglevReport } from '../../src/dataplane/tunnel.js';
import { silentLogger } from '../../src/runtime/logger.js';
import { webModel } from './fixtures.js';

const model = webModel({}, { forwarding: 'tunnel', tableSize: 251, seed: 7 });
const readyz = (self: unknown) => ({
  ready: true,
  reasons: [],
  detail: { dataPlane: { checks: { maglev: { self } } } },
});

/** A fetch that answers /readyz per peer from a table, and fails for anything else. */
function fetcher(bodies: Record<string, unknown>): typeof fetch {
  return (async (url: string | URL | Request) => {
    const peer = String(url).replace('http://', '').replace('/readyz', '');
    if (!(peer in bodies)) throw new TypeError('fetch failed');
    return new Response(JSON.stringify(bodies[peer]));
  }) as typeof fetch;
}

describe('readPeerReport', () => {
  it('reads the report from a peer’s /readyz, and says why it cannot', async () => {
    const self = maglevReport(model);
    expect(await readPeerReport('a:9404', 100, fetcher({ 'a:9404': readyz(self) }))).toEqual(self);
    expect(await readPeerReport('a:9404', 100, fetcher({ 'a:9404': { ready: true } }))).toEqual({
      error: 'its /readyz carries no Maglev report (not forwarding tunnel?)',
    });
    expect(await readPeerReport('b:9404', 100, fetcher({}))).toEqual({ error: 'fetch failed' });
  });
});

describe('Maglev agreement check', () => {
  it('publishes its own report as soon as a sync has written the model, before its peers answer', () => {
    const check = createMaglevCheck({
      peers: async () => [],
      logger: silentLogger(),
      registry: new Registry(),
    });
    expect(check.status()).toEqual({ peers: {} });
    check.observe?.(model);
    expect(check.status()).toEqual({ self: maglevReport(model), peers: {} });
  });

  it('publishes its own tables and finds nothing when the peers agree', async () => {
    const registry = new Registry();
    const self = maglevReport(model);
    const check = createMaglevCheck({
      peers: async () => ['a:9404'],
      logger: silentLogger(),
      registry,
      fetcher: fetcher({ 'a:9404': readyz(self) }),
    });
    await check.run(model);
    expect(check.degraded()).toEqual([]);
    expect(check.notReady()).toEqual([]);
    expect(check.status()).toEqual({ self, peers: { 'a:9404': [] } });
    expect(await registry.getSingleMetricAsString('portlb_dataplane_maglev_table_info')).toContain(
      `service="web",seed="0x7",size="251",fingerprint="${self.services.web?.fingerprint}"} 1`,
    );
  });

  it('reports another seed at once, in /readyz and a metric, without making the LB unready', async () => {
    const registry = new Registry();
    const other = maglevReport({ ...model, seed: 8 });
    const check = createMaglevCheck({
      peers: async () => ['b:9404'],
      logger: silentLogger(),
      registry,
      fetcher: fetcher({ 'b:9404': readyz(other) }),
    });
    await check.run(model);
    expect(check.degraded()).toEqual([
      'LB b:9404 uses seed 0x8, this LB 0x7: the LBs send flows to different backends (set the same dataPlane.seed on all)',
    ]);
    expect(check.notReady()).toEqual([]);
    expect(await registry.getSingleMetricAsString('portlb_dataplane_maglev_peer_mismatch')).toContain(
      'portlb_dataplane_maglev_peer_mismatch{peer="b:9404",kind="seed"} 1',
    );
  });

  it('reports other backends and an unreachable peer only once they are seen twice in a row', async () => {
    const other = maglevReport(webModel({ backends: [] }, { forwarding: 'tunnel', tableSize: 251, seed: 7 }));
    const fewer = { ...other, services: { web: { backends: 1, backendSet: 'x', fingerprint: 'y' } } };
    const check = createMaglevCheck({
      peers: async () => ['c:9404', 'gone:9404'],
      logger: silentLogger(),
      registry: new Registry(),
      fetcher: fetcher({ 'c:9404': readyz(fewer) }),
    });
    await check.run(model);
    expect(check.degraded()).toEqual([]);
    await check.run(model);
    expect(check.degraded()).toEqual([
      "LB c:9404 service web: its 1 backend(s) are not this LB's 2 (expected while a change propagates)",
      'LB gone:9404 fetch failed',
    ]);
  });
});
