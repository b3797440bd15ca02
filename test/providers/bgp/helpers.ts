import { Registry } from 'prom-client';
import { createBgpMetrics } from '../../../src/providers/bgp/metrics.js';
import { createSpeaker, type SpeakerDeps } from '../../../src/providers/bgp/speaker.js';
import { silentLogger } from '../../../src/runtime/logger.js';

/** A speaker wired to a fake exabgp: `lines` is what it was sent; `reply` feeds it lines back. */
export function fakeExabgp(options: Partial<SpeakerDeps> & { autoAck?: boolean } = {}) {
  const registry = new Registry();
  const metrics = createBgpMetrics({ registry });
  const lines: string[] = [];
  const changes: string[] = [];
  const speaker = createSpeaker({
    peers: ['10.99.0.2', '10.99.0.3'],
    logger: silentLogger(),
    metrics,
    ackTimeoutMs: 1000,
    onChange: (why) => changes.push(why),
    now: () => new Date('2026-01-01T00:00:00Z'),
    ...options,
  });
  const writer = {
    write(line: string) {
      lines.push(line.trimEnd());
      // exabgp answers in command order; answering on a later tick mimics the pipe.
      if (options.autoAck) queueMicrotask(() => speaker.receive('done'));
    },
  };
  const metric = async (name: string) =>
    (await registry.getSingleMetricAsString(name)).split('\n').filter((l) => !l.startsWith('#'));
  return { speaker, writer, lines, changes, registry, metric };
}

export const state = (peer: string, s: string, reason?: string) =>
  JSON.stringify({
    exabgp: '4.0.1',
    time: 1.5,
    host: 'lb',
    pid: 10,
    ppid: 1,
    counter: 1,
    type: 'state',
    neighbor: {
      address: { local: '10.99.0.11', peer },
      asn: { local: 65000, peer: 65000 },
      state: s,
      ...(reason && { reason }),
    },
  });

export const web = { vip: '10.1.1.0/24', nextHop: '10.99.0.11' };
