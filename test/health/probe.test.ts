import { getEventListeners } from 'node:events';
import { createServer as createHttpServer, type Server } from 'node:http';
import { type AddressInfo, createServer, type Server as TcpServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createProbe, type ProbeDeps, realProbeDeps } from '../../src/health/probe.js';

/** A clock that only moves when the test says so, and a socket that answers as told. */
function fakeDeps(connect: () => Promise<void>) {
  const sleepers: (() => void)[] = [];
  const deps: ProbeDeps = {
    tcpConnect: connect,
    httpGet: async () => 200,
    sleep: (_ms, signal) =>
      new Promise((resolve) => {
        sleepers.push(resolve);
        signal.addEventListener('abort', () => resolve());
      }),
  };
  return { deps, tick: () => sleepers.shift()?.() };
}

const endpoint = { host: '10.0.0.1', port: 80 };
const spec = { type: 'tcp' as const, path: '/', timeoutMs: 1000 };

describe('probe with injected clock and socket', () => {
  it('passes when the socket connects', async () => {
    const { deps } = fakeDeps(async () => {});
    expect(await createProbe(spec, deps).once(endpoint)).toEqual({
      ok: true,
      detail: 'tcp 10.0.0.1:80 connected',
    });
  });

  it('fails with the socket error', async () => {
    const { deps } = fakeDeps(async () => {
      throw new Error('connect ECONNREFUSED');
    });
    expect(await createProbe(spec, deps).once(endpoint)).toEqual({
      ok: false,
      detail: 'tcp 10.0.0.1:80 failed: connect ECONNREFUSED',
    });
  });

  it('times out by the injected clock, not by waiting', async () => {
    const { deps, tick } = fakeDeps(() => new Promise(() => {}));
    const result = createProbe(spec, deps).once(endpoint);
    await Promise.resolve();
    tick();
    expect(await result).toEqual({ ok: false, detail: 'tcp 10.0.0.1:80 timed out after 1000 ms' });
  });

  it('passes when any endpoint answers, and lists every failure when none does', async () => {
    let calls = 0;
    const { deps } = fakeDeps(async () => {
      calls += 1;
      if (calls === 1) throw new Error('refused');
    });
    const probe = createProbe(spec, deps);
    expect((await probe.any([endpoint, { host: '10.0.0.2', port: 80 }])).ok).toBe(true);
    const down = fakeDeps(async () => {
      throw new Error('refused');
    });
    expect(await createProbe(spec, down.deps).any([endpoint, { host: '::1', port: 8 }])).toEqual({
      ok: false,
      detail: 'tcp 10.0.0.1:80 failed: refused; tcp [::1]:8 failed: refused',
    });
    expect(await probe.any([])).toEqual({ ok: false, detail: 'no backend to probe (none is ready)' });
    const many = Array.from({ length: 5 }, (_, i) => ({ host: `10.0.0.${i + 1}`, port: 80 }));
    expect((await createProbe(spec, down.deps).any(many)).detail).toBe(
      'tcp 10.0.0.1:80 failed: refused; tcp 10.0.0.2:80 failed: refused; tcp 10.0.0.3:80 failed: refused; and 2 more failed',
    );
  });

  it.each([
    [200, true],
    [302, true],
    [404, false],
    [503, false],
  ])('http status %i counts as ok=%s', async (status, ok) => {
    const deps: ProbeDeps = { ...fakeDeps(async () => {}).deps, httpGet: async () => status };
    const result = await createProbe({ type: 'http', path: '/healthz', timeoutMs: 1000 }, deps).once(
      endpoint,
    );
    expect(result).toEqual({ ok, detail: `GET http://10.0.0.1:80/healthz -> ${status}` });
  });
});

describe('probe against real loopback servers', () => {
  const servers: (Server | TcpServer)[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) {
      if ('closeAllConnections' in s) s.closeAllConnections();
      await new Promise((r) => s.close(r));
    }
  });
  const listen = async <T extends Server | TcpServer>(server: T) => {
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return { host: '127.0.0.1', port: (server.address() as AddressInfo).port };
  };

  it('tcp: connects to a listening port, fails on a closed one', async () => {
    const open = await listen(createServer((s) => s.end()));
    const probe = createProbe({ type: 'tcp', path: '/', timeoutMs: 1000 });
    expect((await probe.once(open)).ok).toBe(true);
    const closed = await listen(createServer());
    await new Promise((r) => servers.pop()?.close(r));
    expect((await probe.once(closed)).detail).toMatch(/ECONNREFUSED/);
  });

  it('http: healthy on 200, unhealthy on 500, times out on a server that never answers', async () => {
    const http = await listen(
      createHttpServer((req, res) => {
        if (req.url === '/hang') return;
        res.writeHead(req.url === '/ok' ? 200 : 500).end();
      }),
    );
    const at = (path: string, timeoutMs = 1000) => createProbe({ type: 'http', path, timeoutMs }).once(http);
    expect(await at('/ok')).toEqual({ ok: true, detail: `GET http://127.0.0.1:${http.port}/ok -> 200` });
    expect((await at('/broken')).ok).toBe(false);
    expect((await at('/hang', 100)).detail).toMatch(/timed out after 100 ms/);
  });
});

describe('realProbeDeps.sleep', () => {
  it('leaves no listener behind on the long-lived signal', async () => {
    const abort = new AbortController();
    for (let i = 0; i < 20; i++) await realProbeDeps.sleep(1, abort.signal);
    expect(getEventListeners(abort.signal, 'abort')).toHaveLength(0);
  });

  it('wakes up at once on abort', async () => {
    const abort = new AbortController();
    const started = Date.now();
    const sleeping = realProbeDeps.sleep(60_000, abort.signal);
    abort.abort();
    await sleeping;
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
