import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cutTunnelFlows, flowsTo } from '../../src/dataplane/tunnel-flows.js';
import type { RunOptions } from '../../src/system/exec.js';
import { CommandError } from '../../src/system/exec.js';
import { dataPlaneFixture, v4, webModel } from './fixtures.js';

// What `nft -j list map netdev portlb flows-web-tcp-80` printed for three remembered flows.
const listed = readFileSync(dataPlaneFixture('nft-flows-map.json'), 'utf8');

describe('flowsTo', () => {
  it.each([
    ['02:70:0a:62:00:15', ['10.90.0.1 . 43001 . 10.1.1.1 . 80', '10.90.0.1 . 43003 . 10.1.1.7 . 80']],
    ['02:70:0a:62:00:16', ['10.90.0.1 . 43002 . 10.1.1.1 . 80']],
    ['02:70:0a:62:00:99', []],
  ])('finds the flows remembered for %s', (mac, keys) => {
    expect(flowsTo(listed, mac)).toEqual(keys);
  });

  it('reads a map without elements', () => {
    expect(flowsTo('{"nftables": [{"map": {"name": "flows-web-tcp-80"}}]}', '02:70:0a:62:00:15')).toEqual([]);
  });
});

describe('cutTunnelFlows', () => {
  it('deletes the drained backend’s flows in one transaction, and skips a frontend without a map', async () => {
    const calls: { argv: readonly string[]; input?: string }[] = [];
    const run = async (argv: readonly string[], options?: Pick<RunOptions, 'input'>) => {
      calls.push({ argv, ...(options?.input && { input: options.input }) });
      if (argv.includes('flows-web-tcp-443'))
        throw new CommandError(argv, 1, 'Error: No such file or directory');
      return { stdout: argv.includes('-j') ? listed : '', stderr: '' };
    };
    const service = webModel({
      frontends: [
        { vip: '10.1.1.0/24', family: 4, protocol: 'tcp', port: 80 },
        { vip: '10.1.1.0/24', family: 4, protocol: 'tcp', port: 443 },
      ],
    }).services[0]!;
    expect(await cutTunnelFlows(run, service, v4('10.98.0.21'))).toBe(2);
    expect(calls.filter((c) => c.input).map((c) => c.input)).toEqual([
      'delete element netdev portlb flows-web-tcp-80 { 10.90.0.1 . 43001 . 10.1.1.1 . 80, 10.90.0.1 . 43003 . 10.1.1.7 . 80 }\n',
    ]);
  });
});
