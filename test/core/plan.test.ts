import { describe, expect, it } from 'vitest';
import type { Candidate, DesiredRoute, ObservedRoute, PlanOptions } from '../../src/core/model.js';
import { plan } from '../../src/core/plan.js';
import { type Reason, reasonText } from '../../src/core/reasons.js';

/** Entries with their reason as the sentence people read, as the assertions below state them. */
const spoken = <T extends { reason: Reason }>(entries: readonly T[]) =>
  entries.map((e) => ({ ...e, reason: reasonText(e.reason) }));

const VIP = '10.1.1.0/24';
const up = (target: string, rank?: string): Candidate => ({ target, healthy: true, ...(rank && { rank }) });
const down = (target: string, reason = 'probe failed'): Candidate => ({ target, healthy: false, reason });
const want = (candidates: Candidate[], vip = VIP, service = 'web'): DesiredRoute => ({
  vip,
  service,
  candidates,
});
const route = (target: string, extra: Partial<ObservedRoute> = {}): ObservedRoute => ({
  table: 't1',
  vip: VIP,
  target,
  owner: 'me',
  state: 'active',
  ...extra,
});
const single: PlanOptions = { owner: 'me', tables: ['t1'], cardinality: 'single' };
const multi: PlanOptions = { owner: 'me', tables: ['t1'], cardinality: 'multi' };

/** A compact view of a plan for table rows: `kind target` (replace: `replace from>to`). */
function changes(desired: DesiredRoute[], observed: ObservedRoute[], options: PlanOptions): string[] {
  return plan(desired, observed, options).changes.map((c) =>
    c.kind === 'replace' ? `replace ${c.from}>${c.target}` : `${c.kind} ${c.target}`,
  );
}

describe('plan: single-target clouds (one route per table)', () => {
  it.each<[string, DesiredRoute[], ObservedRoute[], string[]]>([
    [
      'creates a route to the lowest-ordered healthy target',
      [want([up('eni-b'), up('eni-a')])],
      [],
      ['create eni-a'],
    ],
    [
      'uses rank before target id',
      [want([up('eni-a', 'node2'), up('eni-b', 'node1')])],
      [],
      ['create eni-b'],
    ],
    [
      'keeps a healthy current target even when it is not the lowest',
      [want([up('eni-a'), up('eni-b')])],
      [route('eni-b')],
      [],
    ],
    [
      'moves off an unhealthy current target',
      [want([up('eni-a'), down('eni-b')])],
      [route('eni-b')],
      ['replace eni-b>eni-a'],
    ],
    [
      'moves off a target that is no longer a candidate',
      [want([up('eni-c')])],
      [route('eni-b')],
      ['replace eni-b>eni-c'],
    ],
    [
      'repairs a blackhole, preferring another healthy target',
      [want([up('eni-a'), up('eni-b')])],
      [route('eni-a', { state: 'blackhole' })],
      ['replace eni-a>eni-b'],
    ],
    [
      'repairs a blackhole to the same target when it is the only healthy one',
      [want([up('eni-a')])],
      [route('eni-a', { state: 'blackhole' })],
      ['replace eni-a>eni-a'],
    ],
    [
      'keeps the route when nothing is healthy (never delete without a replacement)',
      [want([down('eni-a')])],
      [route('eni-a')],
      [],
    ],
    ['creates nothing when nothing is healthy', [want([down('eni-a'), down('eni-b')])], [], []],
    ['creates nothing for an empty candidate set', [want([])], [], []],
    ['deletes an owned route whose VIP is no longer desired', [], [route('eni-a')], ['delete eni-a']],
    ['never touches a foreign route whose VIP is not desired', [], [route('eni-x', { owner: 'other' })], []],
    ['never touches a route with no owner', [], [route('eni-x', { owner: undefined })], []],
    [
      'does not fight a foreign route holding the destination',
      [want([up('eni-a')])],
      [route('eni-x', { owner: 'other' })],
      [],
    ],
    [
      'ignores routes in tables it does not manage',
      [want([up('eni-a')])],
      [route('eni-a', { table: 't9' })],
      ['create eni-a'],
    ],
    [
      'treats a duplicate candidate as unhealthy if any report says so',
      [want([up('eni-a'), down('eni-a'), up('eni-b')])],
      [route('eni-a')],
      ['replace eni-a>eni-b'],
    ],
  ])('%s', (_name, desired, observed, expected) => {
    expect(changes(desired, observed, single)).toEqual(expected);
  });

  it('writes one route per managed table', () => {
    const result = plan([want([up('eni-a')])], [route('eni-a', { table: 't2' })], {
      ...single,
      tables: ['t1', 't2', 't3'],
    });
    expect(result.changes.map((c) => `${c.table} ${c.kind}`)).toEqual(['t1 create', 't3 create']);
  });

  it('explains every route it leaves alone', () => {
    const result = plan(
      [want([down('eni-a', 'LB not ready')]), want([up('eni-a')], '10.1.2.0/24', 'api')],
      [route('eni-a'), route('eni-x', { vip: '10.1.2.0/24', owner: 'other' })],
      single,
    );
    expect(result.changes).toEqual([]);
    expect(spoken(result.skipped)).toEqual([
      {
        table: 't1',
        vip: '10.1.1.0/24',
        target: 'eni-a',
        reason:
          'current target eni-a is unhealthy: LB not ready; no healthy candidate; keeping the route to eni-a',
      },
      {
        table: 't1',
        vip: '10.1.2.0/24',
        target: 'eni-x',
        reason: 'destination held by a route portlb does not own (owner other)',
      },
    ]);
  });

  it.each([
    ['single', single],
    ['multi', multi],
  ])(
    '%s: lists foreign routes to VIPs it does not serve, with their owner, and changes nothing',
    (_c, options) => {
      const result = plan(
        [],
        [
          route('eni-x', { vip: '10.1.9.0/24', owner: 'other' }),
          route('eni-y', { vip: '10.1.8.0/24', owner: undefined }),
        ],
        options,
      );
      expect(result.changes).toEqual([]);
      expect(spoken(result.skipped)).toEqual([
        { table: 't1', vip: '10.1.8.0/24', target: 'eni-y', reason: 'route owned by nobody left alone' },
        { table: 't1', vip: '10.1.9.0/24', target: 'eni-x', reason: 'route owned by other left alone' },
      ]);
    },
  );

  it('resolves two healthy reports of one target by rank, whatever their order', () => {
    const a = { target: 'eni-a', healthy: true, rank: 'z' };
    const b = { target: 'eni-b', healthy: true, rank: 'm' };
    const aLow = { target: 'eni-a', healthy: true, rank: 'a' };
    const forward = changes([want([a, b, aLow])], [], single);
    const backward = changes([want([aLow, b, a])], [], single);
    expect(forward).toEqual(['create eni-a']);
    expect(backward).toEqual(forward);
  });

  it('withdraws when told to, even in single mode', () => {
    expect(
      changes([want([down('eni-a')])], [route('eni-a')], { ...single, whenNoneHealthy: 'withdraw' }),
    ).toEqual(['delete eni-a']);
  });

  it('carries the provider handle on replace and delete', () => {
    const result = plan([want([up('eni-b')])], [route('eni-a', { id: 'r-1' })], single);
    expect(spoken(result.changes)).toEqual([
      {
        kind: 'replace',
        table: 't1',
        vip: VIP,
        from: 'eni-a',
        target: 'eni-b',
        reason: 'current target eni-a is not a candidate',
        id: 'r-1',
      },
    ]);
  });
});

describe('plan: multi-target (BGP ECMP, GCP equal-priority routes)', () => {
  it.each<[string, DesiredRoute[], ObservedRoute[], string[]]>([
    [
      'announces every healthy target',
      [want([up('10.0.0.2'), up('10.0.0.1'), down('10.0.0.3')])],
      [],
      ['create 10.0.0.1', 'create 10.0.0.2'],
    ],
    ['adds a target that became healthy', [want([up('a'), up('b')])], [route('a')], ['create b']],
    [
      'removes a target that turned unhealthy',
      [want([up('a'), down('b')])],
      [route('a'), route('b')],
      ['delete b'],
    ],
    ['withdraws everything when nothing is healthy', [want([down('a')])], [route('a')], ['delete a']],
    [
      'removes one of two duplicate routes to the same target',
      [want([up('a')])],
      [route('a', { id: 'r1' }), route('a', { id: 'r2' })],
      ['delete a'],
    ],
    ['leaves foreign routes alone', [want([up('a')])], [route('x', { owner: 'other' })], ['create a']],
    [
      'deletes owned routes of VIPs no longer desired',
      [want([up('a')])],
      [route('a', { vip: '10.9.0.0/24' })],
      ['create a', 'delete a'],
    ],
    [
      'is idempotent: desired already observed means no change',
      [want([up('a'), up('b')])],
      [route('a'), route('b')],
      [],
    ],
  ])('%s', (_name, desired, observed, expected) => {
    expect(changes(desired, observed, multi)).toEqual(expected);
  });

  it('keeps current routes when told to keep with nothing healthy', () => {
    const result = plan([want([down('a')])], [route('a')], { ...multi, whenNoneHealthy: 'keep' });
    expect(result.changes).toEqual([]);
    expect(reasonText(result.skipped[0]!.reason)).toContain('keeping current routes');
  });

  it('deletes the later duplicate by its id', () => {
    const result = plan([want([up('a')])], [route('a', { id: 'r2' }), route('a', { id: 'r1' })], multi);
    expect(spoken(result.changes)).toEqual([
      {
        kind: 'delete',
        table: 't1',
        vip: VIP,
        target: 'a',
        reason: 'duplicate route to the same target',
        id: 'r2',
      },
    ]);
  });
});

describe('plan: policies', () => {
  it.each<[PlanOptions['policy'], string[]]>([
    ['sync', ['delete eni-a', 'replace eni-b>eni-c']],
    ['upsert-only', ['replace eni-b>eni-c']],
    ['create-only', []],
  ])('%s', (policy, expected) => {
    const desired = [want([up('eni-c')], '10.1.2.0/24')];
    const observed = [route('eni-a'), route('eni-b', { vip: '10.1.2.0/24' })];
    expect(changes(desired, observed, { ...single, policy })).toEqual(expected);
  });
});

describe('plan: odd input never throws', () => {
  it.each<[string, DesiredRoute[], ObservedRoute[]]>([
    ['empty everything', [], []],
    ['an invalid desired VIP', [want([up('a')], 'not-a-cidr')], []],
    ['a non-canonical desired VIP', [want([up('a')], '10.1.1.9/24')], []],
    ['an invalid observed VIP', [], [route('a', { vip: 'garbage' })]],
    ['two services with the same VIP', [want([up('a')]), want([up('b')], VIP, 'api')], []],
    ['overlapping VIPs', [want([up('a')]), want([up('a')], '10.1.0.0/16', 'api')], []],
    ['an empty target id', [want([{ target: '', healthy: true }])], [route('')]],
  ])('%s', (_name, desired, observed) => {
    for (const options of [single, multi]) expect(() => plan(desired, observed, options)).not.toThrow();
  });

  it('merges two services that want the same VIP and says so', () => {
    const result = plan([want([up('a')]), want([up('b')], VIP, 'api')], [], multi);
    expect(result.changes.map((c) => c.target)).toEqual(['a', 'b']);
    expect(reasonText(result.skipped[0]!.reason)).toContain('several services (web, api)');
  });

  it('compares VIPs in canonical form', () => {
    const result = plan([want([up('a')], '2001:DB8::/64')], [route('a', { vip: '2001:db8:0::/64' })], multi);
    expect(result.changes).toEqual([]);
  });

  it('orders its output deterministically', () => {
    const desired = [want([up('b'), up('a')], '10.1.2.0/24'), want([up('c')], '10.1.1.0/24')];
    const first = plan(desired, [], { ...multi, tables: ['t2', 't1'] });
    const second = plan([...desired].reverse(), [], { ...multi, tables: ['t1', 't2'] });
    expect(second).toEqual(first);
    expect(first.changes.map((c) => `${c.table} ${c.vip} ${c.target}`)).toEqual([
      't1 10.1.1.0/24 c',
      't1 10.1.2.0/24 a',
      't1 10.1.2.0/24 b',
      't2 10.1.1.0/24 c',
      't2 10.1.2.0/24 a',
      't2 10.1.2.0/24 b',
    ]);
  });
});
