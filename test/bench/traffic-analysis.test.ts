import { describe, expect, it } from 'vitest';
import {
  byKind,
  errorCounts,
  outsideWindows,
  type Req,
  series,
  sigkillDetail,
  spread,
  type TrafficEvent,
  throughput,
  touches,
} from '../../bench/traffic-analysis.js';

const req = (start: number, end: number, extra: Partial<Req> = {}): Req => ({
  stream: 'new',
  start,
  end,
  failed: false,
  ...extra,
});
const event = (kind: TrafficEvent['kind'], t0: number, t1: number, extra: Partial<TrafficEvent> = {}) => ({
  kind,
  target: 'web-1',
  t0,
  t1,
  windowEnd: t1 + 1000,
  ...extra,
});

describe('bench:traffic analysis', () => {
  it.each([
    ['started inside', req(1500, 1600), true],
    ['in flight at the start', req(900, 1100), true],
    ['in flight across the whole window', req(500, 5000), true],
    ['done before', req(100, 999), false],
    ['started after', req(3001, 3100), false],
  ])('a request %s the window [1000, 3000] touches it: %s', (_name, r, want) => {
    expect(touches(r, 1000, 3000)).toBe(want);
  });

  it('counts per kind the requests and failures its windows touched, each request once per kind', () => {
    const events = [
      event('scale-up', 1000, 2000, { resets: 3 }),
      event('scale-up', 2500, 2600, { resets: 1 }),
    ];
    const reqs = [
      req(1900, 2700, { failed: true, stream: 'bulk', error: 'read tcp 10.97.0.2:4000->10.1.1.1:80: reset' }),
      req(1200, 1201),
      req(9000, 9001, { failed: true }),
    ];
    expect(byKind(events, reqs)['scale-up']).toEqual({
      events: 2,
      requests: 2,
      failed: 1,
      failedInFlightBefore: 0,
      resets: 4,
      changeMs: { min: 100, max: 1000, mean: 550 },
      failedByStream: { bulk: 1 },
      errors: { 'read tcp ADDR:PORT->ADDR:PORT: reset': 1 },
    });
    const before = byKind([event('backend-remove', 2000, 2100)], [req(500, 2500, { failed: true })]);
    expect(before['backend-remove']).toMatchObject({ failed: 1, failedInFlightBefore: 1 });
    expect(byKind(events, reqs)['graceful-stop']).toMatchObject({ events: 0, requests: 0, changeMs: null });
    expect(outsideWindows(events, reqs)).toEqual({ requests: 1, failed: 1, errors: { failed: 1 } });
  });

  it('splits a SIGKILL’s failures into those inside its detection window and after it', () => {
    const kill = event('sigkill', 1000, 1150, { fibAt: 1150 });
    const reqs = [
      req(990, 6000, { failed: true }),
      req(1100, 1200, { failed: true }),
      req(1400, 1500, { failed: true }),
    ];
    expect(sigkillDetail([kill], reqs)).toEqual([
      { target: 'web-1', detectionMs: 150, failedInside: 2, failedAfter: 1 },
    ]);
  });

  it('gives each LB’s share of the answered flows and the worst deviation from a fair share', () => {
    const reqs = [
      ...Array.from({ length: 30 }, (_, i) => req(i, i, { lb: 'web-1' })),
      ...Array.from({ length: 20 }, (_, i) => req(i, i, { lb: 'web-2' })),
      req(0, 0, { failed: true }),
    ];
    const s = spread(reqs, ['web-1', 'web-2']);
    expect(s).toMatchObject({ flows: 50, shares: { 'web-1': 0.6, 'web-2': 0.4 } });
    expect(s.maxDeviation).toBeCloseTo(0.2);
  });

  it('measures requests/s by completion, and bins starts by LB over time', () => {
    const reqs = [req(0, 1500), req(100, 2500), req(200, 3500), req(300, 1600, { failed: true })];
    expect(throughput(reqs, 1000, 3000)).toBe(1);
    expect(
      series(
        [req(0, 1, { lb: 'node1' }), req(400, 401, { lb: 'node2' }), req(1200, 1300, { failed: true })],
        0,
        1000,
      ),
    ).toEqual([
      { t: 0, rps: { node1: 1, node2: 1 }, failed: 0 },
      { t: 1, rps: {}, failed: 1 },
    ]);
    expect(errorCounts([req(0, 1)])).toEqual({});
  });
});
