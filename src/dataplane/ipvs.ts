import { errorMessage } from '../errors.js';
import { CommandError } from '../system/exec.js';
import type { DataPlaneSystem } from './system.js';

/**
 * Whether this kernel has IP_VS, and if not, every sign of why: /proc/net/ip_vs (present in every
 * network namespace once the module is in), /proc/modules, and `modprobe -n ip_vs` (would it load?).
 * Undefined when ipvs is there.
 */
export async function ipvsUnavailable(
  system: Pick<DataPlaneSystem, 'readProc' | 'run'>,
): Promise<string | undefined> {
  if ((await system.readProc('/proc/net/ip_vs')) !== undefined) return undefined;
  const signs = ['/proc/net/ip_vs does not exist'];
  const modules = await system.readProc('/proc/modules');
  if (modules === undefined) signs.push('/proc/modules does not exist (a kernel without loadable modules)');
  else if (!/^ip_vs /m.test(modules)) signs.push('ip_vs is not in /proc/modules');
  try {
    await system.run(['modprobe', '-n', 'ip_vs'], { timeoutMs: 5_000 });
    signs.push(
      'modprobe -n ip_vs finds the module: load it on the node (modprobe ip_vs), or give the container CAP_SYS_MODULE and /lib/modules',
    );
  } catch (error) {
    const why =
      error instanceof CommandError ? error.stderr.trim() || `exit ${error.exitCode}` : errorMessage(error);
    signs.push(`modprobe -n ip_vs: ${why}`);
  }
  return `ipvs not available in this kernel: ${signs.join('; ')}`;
}
