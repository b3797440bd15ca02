import { describe, expect, it } from 'vitest';
import { ipvsUnavailable } from '../../src/dataplane/ipvs.js';
import type { DataPlaneSystem } from '../../src/dataplane/system.js';
import { PermanentError } from '../../src/errors.js';
import { CommandError } from '../../src/system/exec.js';

type Modprobe = 'missing' | 'found' | 'no-binary';

function system(proc: Record<string, string>, modprobe: Modprobe): Pick<DataPlaneSystem, 'readProc' | 'run'> {
  return {
    readProc: async (path) => proc[path],
    run: async (argv) => {
      if (modprobe === 'found') return { stdout: 'insmod /lib/modules/x/ip_vs.ko\n', stderr: '' };
      if (modprobe === 'no-binary') throw new PermanentError('modprobe: not found');
      throw new CommandError(
        argv,
        1,
        'modprobe: FATAL: Module ip_vs not found in directory /lib/modules/6.18\n',
      );
    },
  };
}

describe('ipvsUnavailable', () => {
  it.each([
    ['available', { '/proc/net/ip_vs': 'IP Virtual Server version 1.2.1\n' }, 'missing', undefined],
    [
      'a kernel without modules (this machine)',
      {},
      'no-binary',
      'ipvs not available in this kernel: /proc/net/ip_vs does not exist; /proc/modules does not exist (a kernel without loadable modules); modprobe -n ip_vs: modprobe: not found',
    ],
    [
      'a module that is not there',
      { '/proc/modules': 'nf_tables 300000 0 - Live 0x0\n' },
      'missing',
      'ipvs not available in this kernel: /proc/net/ip_vs does not exist; ip_vs is not in /proc/modules; modprobe -n ip_vs: modprobe: FATAL: Module ip_vs not found in directory /lib/modules/6.18',
    ],
    [
      'a module that could be loaded',
      { '/proc/modules': '' },
      'found',
      expect.stringContaining('modprobe -n ip_vs finds the module: load it on the node (modprobe ip_vs)'),
    ],
  ] as const)('%s', async (_name, proc, modprobe, expected) => {
    expect(await ipvsUnavailable(system(proc, modprobe as Modprobe))).toEqual(expected);
  });
});
