import type { DataPlaneConfig } from '../config/schema.js';
import { errorMessage, PermanentError } from '../errors.js';
import { CommandError } from '../system/exec.js';
import { ipvsUnavailable } from './ipvs.js';
import type { ApplyOutcome, RuleWriter } from './port.js';
import { keepalivedMarker, renderKeepalived } from './render-keepalived.js';
import type { DataPlaneSystem } from './system.js';

/** keepalived's pid from its pid file, if that process is alive. */
async function keepalivedPid(system: DataPlaneSystem, pidFile: string): Promise<number | undefined> {
  const text = await system.readFile(pidFile);
  const pid = Number.parseInt(text?.trim() ?? '', 10);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    system.signal(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}

/**
 * Writes keepalived.conf (the paper's ipvs data plane) and tells keepalived to reload it with
 * SIGHUP, only when the rendered config differs from the file; every config passes
 * `keepalived --config-test` before it replaces the old one, and a file without portlb's first
 * line is never replaced. On a kernel without IP_VS it says so at start and writes nothing.
 */
export function createKeepalivedWriter(
  system: DataPlaneSystem,
  settings: DataPlaneConfig['ipvs'],
): RuleWriter {
  // keepalived --config-test exits 0 on a missing file and prints why; only a clean config is silent.
  const test = async (file: string) => {
    if (!settings.testConfig) return;
    let output: string;
    try {
      const out = await system.run([settings.command, '--config-test', '-f', file], { timeoutMs: 10_000 });
      output = `${out.stdout}${out.stderr}`.trim();
    } catch (error) {
      output = error instanceof CommandError ? error.stderr.trim() : errorMessage(error);
    }
    if (output !== '') {
      throw new PermanentError(`keepalived --config-test refused the rendered config: ${output}`);
    }
  };
  const running = async (): Promise<Pick<ApplyOutcome, 'notServing'>> =>
    (await keepalivedPid(system, settings.pidFile)) === undefined
      ? { notServing: `keepalived is not running (no live pid in ${settings.pidFile})` }
      : {};

  return {
    name: 'keepalived',
    unavailable: () => ipvsUnavailable(system),
    async sync(model): Promise<ApplyOutcome> {
      const text = renderKeepalived(model);
      const current = await system.readFile(settings.configFile);
      if (current === text) {
        return {
          action: 'unchanged',
          reason: { code: 'unchanged', detail: settings.configFile },
          ...(await running()),
        };
      }
      if (current !== undefined && !current.startsWith(keepalivedMarker(model.owner))) {
        const detail = `${settings.configFile} does not start with "${keepalivedMarker(model.owner)}": it is not portlb's to replace`;
        return { action: 'refused', reason: { code: 'not_owned', detail } };
      }
      await system.replaceFile(settings.configFile, text, test);
      const pid = await keepalivedPid(system, settings.pidFile);
      if (pid !== undefined) system.signal(pid, 'SIGHUP');
      const reason = {
        code: current === undefined ? 'file_missing' : 'rules_changed',
        detail: settings.configFile,
      };
      return { action: 'applied', reason, ...(await running()) };
    },
  };
}
