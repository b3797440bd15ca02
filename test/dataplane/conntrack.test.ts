import { describe, expect, it } from 'vitest';
import { cutArgs, cutFlows } from '../../src/dataplane/conntrack.js';
import type { Frontend } from '../../src/dataplane/model.js';
import type { Runner } from '../../src/dataplane/system.js';
import { CommandError } from '../../src/system/exec.js';
import { v4 } from './fixtures.js';

const tcp80: Frontend = { vip: '10.1.1.0/24', family: 4, protocol: 'tcp', port: 80 };
const udp53: Frontend = { vip: '10.1.2.0/28', family: 4, protocol: 'udp', port: 53 };
const v6: Frontend = { vip: '2001:db8:1::/120', family: 6, protocol: 'tcp', port: 80 };

describe('conntrack cut', () => {
  it.each([
    [
      tcp80,
      v4('10.98.0.22'),
      '-p tcp --orig-dst 10.1.1.0/24 --orig-port-dst 80 --reply-src 10.98.0.22 --reply-port-src 8080',
    ],
    [
      udp53,
      v4('10.98.0.9', 5353),
      '-p udp --orig-dst 10.1.2.0/28 --orig-port-dst 53 --reply-src 10.98.0.9 --reply-port-src 5353',
    ],
    [
      v6,
      { address: '2001:db8:98::21', port: 8080, family: 6 as const },
      '-f ipv6 -p tcp --orig-dst 2001:db8:1::/120 --orig-port-dst 80 --reply-src 2001:db8:98::21 --reply-port-src 8080',
    ],
  ])('matches only the flows NAT’d to the backend for %o', (frontend, backend, args) => {
    expect(cutArgs(frontend, backend).join(' ')).toBe(`conntrack -D ${args}`);
  });

  it('counts deleted entries, and takes conntrack’s exit 1 for "none matched"', async () => {
    const run: Runner = async (argv) => {
      if (argv.includes('udp')) {
        throw new CommandError(
          argv,
          1,
          'conntrack v1.4.7 (conntrack-tools): 0 flow entries have been deleted.\n',
        );
      }
      return {
        stdout: '',
        stderr: 'conntrack v1.4.7 (conntrack-tools): 2 flow entries have been deleted.\n',
      };
    };
    expect(await cutFlows(run, [tcp80, udp53], v4('10.98.0.22'))).toBe(2);
  });

  it('fails on any other error', async () => {
    const run: Runner = async (argv) => {
      throw new CommandError(argv, 1, 'conntrack v1.4.7 (conntrack-tools): Operation not permitted\n');
    };
    await expect(cutFlows(run, [tcp80], v4('10.98.0.22'))).rejects.toThrow(/Operation not permitted/);
  });
});
