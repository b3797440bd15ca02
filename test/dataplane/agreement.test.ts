import { describe, expect, it } from 'vitest';
import { comparePeer } from '../../src/dataplane/agreement.js';
import type { MaglevReport } from '../../src/dataplane/tunnel.js';

const self: MaglevReport = {
  seed: 0x5eed,
  tableSize: 16_381,
  services: {
    web: { backends: 2, backendSet: 'aaaa0001', fingerprint: 'f1' },
    dns: { backends: 3, backendSet: 'bbbb0001', fingerprint: 'f2' },
  },
};

describe('comparePeer', () => {
  it.each([
    ['the same tables', self, []],
    [
      'another seed',
      { ...self, seed: 1 },
      [
        {
          kind: 'seed',
          fatal: true,
          detail:
            'uses seed 0x1, this LB 0x5eed: the LBs send flows to different backends (set the same dataPlane.seed on all)',
        },
      ],
    ],
    [
      'another table size',
      { ...self, tableSize: 4093 },
      [
        {
          kind: 'table_size',
          fatal: true,
          detail:
            'uses table size 4093, this LB 16381: the LBs send flows to different backends (set the same dataPlane.tableSize on all)',
        },
      ],
    ],
    [
      'other backends for one service (a change on its way)',
      {
        ...self,
        services: { ...self.services, web: { backends: 3, backendSet: 'aaaa0002', fingerprint: 'f9' } },
      },
      [
        {
          kind: 'backends',
          fatal: false,
          detail: "service web: its 3 backend(s) are not this LB's 2 (expected while a change propagates)",
        },
      ],
    ],
    [
      'the same backends but another table',
      {
        ...self,
        services: { ...self.services, dns: { backends: 3, backendSet: 'bbbb0001', fingerprint: 'f7' } },
      },
      [
        {
          kind: 'table',
          fatal: true,
          detail:
            'service dns: same seed, size and backends but another table (f7, here f2): different portlb versions, or CPUs of different byte order',
        },
      ],
    ],
    ['a service it does not serve', { ...self, services: { web: self.services.web! } }, []],
  ] as const)('%s', (_name, theirs, findings) => {
    expect(comparePeer(self, '10.98.0.2:9404', theirs as MaglevReport)).toEqual(
      findings.map((f) => ({ peer: '10.98.0.2:9404', ...f })),
    );
  });
});
