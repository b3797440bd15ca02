import { Registry } from 'prom-client';
import { describe, expect, it, vi } from 'vitest';
import type { ServiceConfig } from '../../src/config/schema.js';
import { type DataPlaneConfig, DEFAULT_DATA_PLANE } from '../../src/config/schema.js';
import type { DataPlaneCheck } from '../../src/dataplane/checks.js';
import { createDataPlaneController } from '../../src/dataplane/controller.js';
import type { PlaneBackend, PlaneModel, PlaneService } from '../../src/dataplane/model.js';
import { type ApplyOutcome, PreviousRulesServeError, type RuleWriter } from '../../src/dataplane/port.js';
import type { DataPlaneSystem } from '../../src/dataplane/system.js';
import { PermanentError } from '../../src/errors.js';
import { silentLogger } from '../../src/runtime/logger.js';
import type { Backend, BackendSource } from '../../src/sources/backends.js';

const web: ServiceConfig = {
  name: 'web',
  vip: '10.1.1.0/24',
  ports: [{ port: 80, protocol: 'TCP' }],
  backends: { static: [{ address: '10.98.0.21', port: 8080 }] },
};

const b = (address: string): Backend => ({ address, port: 8080 });

function backendsOf(initial: Backend[]) {
  let list = initial;
  const listeners = new Set<(s: string) => void>();
  const source: BackendSource = {
    backends: () => [...list],
    onChange: (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
  };
  return {
    source,
    set(next: Backend[]) {
      list = next;
      for (const l of listeners) l('web');
    },
  };
}

function recordingWriter(results: (ApplyOutcome | Error)[] = []): RuleWriter & { models: PlaneModel[] } {
  const models: PlaneModel[] = [];
  return {
    name: 'nftables',
    models,
    async sync(model) {
      models.push(model);
      const next = results.shift() ?? { action: 'applied', reason: { code: 'rules_changed', detail: '' } };
      if (next instanceof Error) throw next;
      return next;
    },
  };
}

function fakeSystem(proc: Record<string, string> = { '/proc/sys/net/ipv4/ip_forward': '1\n' }) {
  const commands: string[][] = [];
  const system: DataPlaneSystem = {
    run: async (argv) => {
      commands.push([...argv]);
      return {
        stdout: '',
        stderr: 'conntrack v1.4.7 (conntrack-tools): 3 flow entries have been deleted.\n',
      };
    },
    readProc: async (path) => proc[path],
    readFile: async () => undefined,
    replaceFile: async () => {},
    signal: () => {},
  };
  return { system, commands };
}

function setup<W extends RuleWriter = ReturnType<typeof recordingWriter>>(options: {
  backends?: Backend[];
  writer?: W;
  /** Writers after `writer`, in order (the tunnel's device, then its rules). */
  later?: RuleWriter[];
  dataPlane?: Partial<DataPlaneConfig>;
  system?: DataPlaneSystem;
  now?: () => number;
  trigger?: (why: string) => void;
  checks?: DataPlaneCheck[];
  cut?: (service: PlaneService, backend: PlaneBackend) => Promise<number>;
}) {
  const backends = backendsOf(options.backends ?? [b('10.98.0.22'), b('10.98.0.21')]);
  const writer = (options.writer ?? recordingWriter()) as W & { models: PlaneModel[] };
  const { system, commands } = options.system ? { system: options.system, commands: [] } : fakeSystem();
  const registry = new Registry();
  const controller = createDataPlaneController({
    config: { owner: 'lab', services: [web] },
    dataPlane: { ...DEFAULT_DATA_PLANE, ...options.dataPlane },
    backends: backends.source,
    writers: [writer, ...(options.later ?? [])],
    system,
    logger: silentLogger(),
    registry,
    ...(options.now && { now: options.now }),
    ...(options.trigger && { trigger: options.trigger }),
    ...(options.checks && { checks: options.checks }),
    ...(options.cut && { cut: options.cut }),
  });
  return { controller, backends, writer, commands, registry };
}

const addresses = (m: PlaneModel | undefined, key: 'backends' | 'draining' = 'backends') =>
  m?.services[0]?.[key].map((x) => x.address);

describe('data-plane controller', () => {
  it('writes the ordered ready backends and is ready once written', async () => {
    const { controller, writer } = setup({});
    expect(controller.notReady()).toEqual(['data plane: not synced yet']);
    await controller.start();
    await controller.sync('test');
    expect(addresses(writer.models[0])).toEqual(['10.98.0.21', '10.98.0.22']);
    expect(controller.notReady()).toEqual([]);
    expect(controller.status()).toMatchObject({
      kind: 'nftables',
      services: { web: { ready: 2, draining: 0 } },
      writers: { nftables: { outcome: 'applied', served: true } },
      degraded: [],
    });
  });

  it('keeps the previous backends when a list is refused, and says why', async () => {
    const { controller, backends, writer, registry } = setup({});
    await controller.sync('first');
    backends.set([b('10.98.0.21'), b('10.98.0.21'), b('10.98.0.23')]);
    await controller.sync('duplicates');
    expect(addresses(writer.models[1])).toEqual(['10.98.0.21', '10.98.0.22']);
    expect(controller.notReady()).toEqual([]);
    expect(controller.status().degraded).toEqual([
      'service web: backend list refused: 10.98.0.21:8080: listed twice',
    ]);
    expect(await registry.getSingleMetricAsString('portlb_dataplane_backend_list_refused')).toContain(
      'portlb_dataplane_backend_list_refused{service="web"} 1',
    );
    backends.set([b('10.98.0.23')]);
    await controller.sync('fixed');
    expect(addresses(writer.models[2])).toEqual(['10.98.0.23']);
    expect(controller.status().services.web).toEqual({ ready: 1, draining: 2 });
  });

  it('starts with no backends for a service whose first list is refused', async () => {
    const { controller, writer } = setup({ backends: [b('not-an-ip')] });
    await controller.sync('first');
    expect(addresses(writer.models[0])).toEqual([]);
  });

  it('takes a backend out of new flows at once, and cuts its flows when the drain time is over', async () => {
    let now = 1_000;
    const { controller, backends, writer, commands } = setup({
      now: () => now,
      dataPlane: { backendDrainSeconds: 30 },
    });
    await controller.sync('first');
    backends.set([b('10.98.0.21')]);
    const draining = await controller.sync('removed');
    expect(addresses(writer.models[1])).toEqual(['10.98.0.21']);
    expect(addresses(writer.models[1], 'draining')).toEqual(['10.98.0.22']);
    expect(draining.cut).toEqual([]);
    now += 30_000;
    const over = await controller.sync('drain over');
    expect(addresses(writer.models[2], 'draining')).toEqual([]);
    expect(over.cut).toEqual([
      { service: 'web', backend: expect.objectContaining({ address: '10.98.0.22' }), flows: 3 },
    ]);
    expect(commands).toEqual([
      [
        'conntrack',
        '-D',
        '-p',
        'tcp',
        '--orig-dst',
        '10.1.1.0/24',
        '--orig-port-dst',
        '80',
        '--reply-src',
        '10.98.0.22',
        '--reply-port-src',
        '8080',
      ],
    ]);
  });

  it('asks for a sync when the backends change and when a drain time ends', async () => {
    vi.useFakeTimers();
    try {
      const trigger = vi.fn();
      const { controller, backends } = setup({
        trigger,
        now: () => Date.now(),
        dataPlane: { backendDrainSeconds: 5 },
      });
      await controller.start();
      await controller.sync('first');
      backends.set([b('10.98.0.21')]);
      expect(trigger).toHaveBeenLastCalledWith('backends of web changed');
      await controller.sync('removed');
      vi.advanceTimersByTime(4_999);
      expect(trigger).toHaveBeenCalledTimes(1);
      vi.advanceTimersByTime(1);
      expect(trigger).toHaveBeenLastCalledWith('backend drain time over');
      controller.stop();
    } finally {
      vi.useRealTimers();
    }
  });

  it('does not cut flows with ipvs: keepalived drops the real server itself', async () => {
    const { controller, backends, commands } = setup({ dataPlane: { kind: 'ipvs', backendDrainSeconds: 0 } });
    await controller.sync('first');
    backends.set([b('10.98.0.21')]);
    expect((await controller.sync('removed')).cut).toEqual([]);
    expect(commands).toEqual([]);
  });

  it('is not ready while nothing was ever written, and degraded when a later write fails', async () => {
    const failure = new PermanentError('nft: Operation not permitted');
    const writer = recordingWriter([
      failure,
      { action: 'applied', reason: { code: 'x', detail: '' } },
      failure,
    ]);
    const { controller, registry } = setup({ writer });
    await expect(controller.sync('first')).rejects.toBe(failure);
    expect(controller.notReady()).toEqual(['nftables: no rules written yet: nft: Operation not permitted']);
    await controller.sync('second');
    await expect(controller.sync('third')).rejects.toBe(failure);
    expect(controller.notReady()).toEqual([]);
    expect(controller.status().degraded).toEqual([
      'nftables: the last write failed and the previous rules still serve: nft: Operation not permitted',
    ]);
    const syncs = await registry.getSingleMetricAsString('portlb_dataplane_syncs_total');
    expect(syncs).toContain('portlb_dataplane_syncs_total{writer="nftables",outcome="failed"} 2');
    expect(syncs).toContain('portlb_dataplane_syncs_total{writer="nftables",outcome="applied"} 1');
  });

  it('is degraded, not down, when its first write fails over rules an earlier run left', async () => {
    const failure = new PreviousRulesServeError('nft: Operation not permitted');
    const { controller } = setup({ writer: recordingWriter([failure]) });
    await expect(controller.sync('first')).rejects.toBe(failure);
    expect(controller.notReady()).toEqual([]);
    expect(controller.status().degraded).toEqual([
      'nftables: the last write failed and the previous rules still serve: nft: Operation not permitted',
    ]);
  });

  it('is not ready when its table is someone else’s', async () => {
    const refused: ApplyOutcome = {
      action: 'refused',
      reason: { code: 'not_owned', detail: 'table inet portlb exists without portlb’s owner rule' },
    };
    const { controller } = setup({ writer: recordingWriter([refused]) });
    await controller.sync('first');
    expect(controller.notReady()).toEqual(['nftables: table inet portlb exists without portlb’s owner rule']);
  });

  it('writes nothing after a writer that refused: the later ones build on what it would have made', async () => {
    const refused: ApplyOutcome = {
      action: 'refused',
      reason: { code: 'not_owned', detail: 'device plbvx0 exists and is not portlb’s' },
    };
    const device = { ...recordingWriter([refused]), name: 'tunnel' as const };
    const rules = recordingWriter();
    const { controller } = setup({ writer: device, later: [rules] });
    const outcome = await controller.sync('first');
    expect(outcome.writers.map((w) => [w.writer, w.outcome.action])).toEqual([['tunnel', 'refused']]);
    expect(rules.models).toEqual([]);
    expect(controller.notReady()).toEqual(['tunnel: device plbvx0 exists and is not portlb’s']);
  });

  it('is not ready when the kernel would not forward', async () => {
    const { system } = fakeSystem({ '/proc/sys/net/ipv4/ip_forward': '0\n' });
    const { controller } = setup({ system });
    await controller.sync('first');
    expect(controller.notReady()).toEqual([
      'data plane: net.ipv4.ip_forward is 0, not 1: the kernel will not forward IPv4 to the backends',
    ]);
  });

  it('says at start that ipvs is missing and writes nothing', async () => {
    const writer = {
      ...recordingWriter(),
      unavailable: async () => 'ipvs not available in this kernel: test',
    };
    const { controller } = setup({ writer, dataPlane: { kind: 'ipvs' } });
    await controller.start();
    expect(await controller.sync('first')).toEqual({ writers: [], cut: [] });
    expect(writer.models).toEqual([]);
    expect(controller.notReady()).toEqual(['ipvs not available in this kernel: test']);
  });
});

/** A check whose findings a test sets, and whose run a test can hold. */
function fakeCheck(name = 'tunnel') {
  let release: () => void = () => {};
  let hold = false;
  const runs: PlaneModel[] = [];
  const observed: PlaneModel[] = [];
  const state = { notReady: [] as string[], degraded: [] as string[] };
  const check: DataPlaneCheck = {
    name,
    observe: (model) => observed.push(model),
    async run(model) {
      runs.push(model);
      if (hold) await new Promise<void>((r) => (release = r));
    },
    notReady: () => state.notReady,
    degraded: () => state.degraded,
    status: () => ({ runs: runs.length }),
  };
  return {
    check,
    runs,
    observed,
    state,
    hold: () => (hold = true),
    release: () => {
      hold = false;
      release();
    },
  };
}

describe('data-plane controller, forwarding tunnel', () => {
  const tunnel = { forwarding: 'tunnel' as const, tableSize: 251 };
  const loose = () =>
    fakeSystem({
      '/proc/sys/net/ipv4/conf/all/rp_filter': '2\n',
      '/proc/sys/net/ipv4/conf/eth0/rp_filter': '0\n',
    }).system;

  it('refuses a backend list with two backends on one address, keeping the previous one', async () => {
    const { controller, backends, writer } = setup({ dataPlane: tunnel });
    await controller.sync('first');
    backends.set([b('10.98.0.21'), { address: '10.98.0.21', port: 8081 }]);
    await controller.sync('second');
    expect(addresses(writer.models[1])).toEqual(['10.98.0.21', '10.98.0.22']);
    expect(controller.status().services.web?.refused).toEqual([
      '10.98.0.21:8081: same address as 10.98.0.21:8080; tunnel forwarding reaches an address, not a port',
    ]);
  });

  it('runs its checks after each sync, beside the loop, and shows what they found', async () => {
    const fake = fakeCheck();
    const { controller } = setup({ dataPlane: tunnel, checks: [fake.check], system: loose() });
    await controller.sync('first');
    await controller.checked();
    expect(fake.runs).toHaveLength(1);
    fake.state.notReady = ['service web: none of its 2 backend(s) answers through the tunnel'];
    fake.state.degraded = ['service web: backend 10.98.0.21:8080 fails the tunnel check: why'];
    expect(controller.notReady()).toEqual([
      'service web: none of its 2 backend(s) answers through the tunnel',
    ]);
    expect(controller.status()).toMatchObject({
      degraded: ['service web: backend 10.98.0.21:8080 fails the tunnel check: why'],
      checks: { tunnel: { runs: 1 } },
    });
  });

  it('does not wait for a slow check: the next sync writes at once, and the check runs again on the latest model', async () => {
    const fake = fakeCheck();
    const { controller, backends, writer } = setup({ dataPlane: tunnel, checks: [fake.check] });
    fake.hold();
    await controller.sync('first');
    backends.set([b('10.98.0.23')]);
    await controller.sync('second');
    backends.set([b('10.98.0.24')]);
    await controller.sync('third');
    expect(writer.models).toHaveLength(3);
    expect(fake.runs).toHaveLength(1);
    // What a check publishes at once (the Maglev report) follows every sync, held run or not.
    expect(fake.observed).toEqual(writer.models);
    fake.release();
    await controller.checked();
    expect(fake.runs.map((m) => addresses(m))).toEqual([['10.98.0.21', '10.98.0.22'], ['10.98.0.24']]);
  });

  it('cuts a drained backend’s flows with the forwarding’s own cut', async () => {
    let now = 0;
    const cut = vi.fn(async () => 5);
    const { controller, backends } = setup({
      dataPlane: { ...tunnel, backendDrainSeconds: 1 },
      now: () => now,
      cut,
    });
    await controller.sync('first');
    backends.set([b('10.98.0.22')]);
    await controller.sync('removed');
    now = 1500;
    const over = await controller.sync('drain over');
    expect(over.cut).toEqual([
      { service: 'web', backend: expect.objectContaining({ address: '10.98.0.21' }), flows: 5 },
    ]);
    expect(cut).toHaveBeenCalledWith(
      expect.objectContaining({ name: 'web' }),
      expect.objectContaining({ address: '10.98.0.21' }),
    );
  });

  it.each([
    [{ '/proc/sys/net/ipv4/conf/all/rp_filter': '0\n', '/proc/sys/net/ipv4/conf/eth0/rp_filter': '2\n' }, []],
    [
      { '/proc/sys/net/ipv4/conf/all/rp_filter': '1\n', '/proc/sys/net/ipv4/conf/eth0/rp_filter': '0\n' },
      [
        "data plane: net.ipv4.conf.all.rp_filter is 1, not 0 or 2: the kernel will not accept the answers to the LB's own connections through the tunnel (they come from the VIP)",
      ],
    ],
  ])('needs no ip_forward, and loose rp_filter for its own traffic: %j', async (proc, reasons) => {
    const { controller } = setup({ dataPlane: tunnel, system: fakeSystem(proc).system });
    await controller.sync('first');
    expect(controller.notReady()).toEqual(reasons);
  });
});
