import { describe, expect, it } from 'vitest';
import type { SessionStatus } from '../../src/lab/sessions.js';
import { dataPlaneSummary, formatStatus, type LabStatus } from '../../src/lab/status.js';

const status = (sessions: SessionStatus[]): LabStatus => ({
  dir: '/run/portlb-lab',
  prefix: 'plb-',
  phase: 'up',
  services: [{ name: 'web', vip: '10.1.1.0/24' }],
  backends: [{ name: 'web1', address: '10.98.0.21' }],
  router: [{ dst: '10.1.1.0/24', protocol: 'bgp', nextHops: ['10.99.0.11'] }],
  sessions,
  errors: [],
  lbs: [],
});

describe('lab status', () => {
  it.each([
    [
      { speaker: 'router', peer: '10.99.0.2', state: 'Established', prefixesReceived: 2 },
      'Established (2 received)',
    ],
    [
      {
        speaker: 'rr-frr',
        peer: '10.244.1.60',
        state: 'Established',
        prefixesReceived: 3,
        prefixesAccepted: 0,
        bfd: 'down',
      },
      'Established (3 received, 0 accepted, 3 refused; BFD down)',
    ],
    [
      {
        speaker: 'rr-gobgp',
        peer: '10.244.1.11',
        state: 'established',
        prefixesReceived: 1,
        prefixesAccepted: 1,
        bfd: 'up',
      },
      'established (1 received, 1 accepted, 0 refused; BFD up)',
    ],
    [{ speaker: 'rr-frr', peer: '10.244.2.11', state: 'Active' }, 'Active'],
  ])('prints what the filter took and refused: %o', (session, line) => {
    const text = formatStatus(status([session]));
    expect(text).toContain(`${session.speaker.padEnd(9)} -> ${session.peer.padEnd(15)} ${line}\n`);
  });
});

const plane = (ready: boolean, reasons: string[], degraded: string[], draining = 0) => ({
  ready,
  reasons,
  detail: { dataPlane: { services: { web: { ready: 2, draining } }, degraded } },
});

describe('lab status: an LB pod’s rules', () => {
  it.each([
    [plane(true, [], []), 'rules: ok (web 2 backend(s))'],
    [plane(true, [], [], 1), 'rules: ok (web 2 backend(s) + 1 draining)'],
    [
      plane(true, [], ['nftables: the last write failed and the previous rules still serve: Error: x']),
      'rules: DEGRADED: nftables: the last write failed and the previous rules still serve: Error: x',
    ],
    [
      plane(false, ['nftables: no rules written yet: Error: x'], []),
      'rules: NOT SERVING: nftables: no rules written yet: Error: x',
    ],
    [{ error: 'curl: (7) Failed to connect' }, 'rules: data plane not answering'],
    [undefined, 'rules: data plane not answering'],
  ])('%o -> %s', (readyz, line) => {
    expect(dataPlaneSummary(readyz)).toBe(line);
  });
});
