import { loadConfig } from '../config/load.js';
import { type BackendReport, removeBackend, setUpBackend } from '../dataplane/backend-setup.js';
import { createSystem } from '../dataplane/system.js';
import { ConfigError } from '../errors.js';

export interface BackendSetupCliOptions {
  config: string;
  address?: string;
  port?: string;
  netns?: string;
  remove?: boolean;
  json?: boolean;
}

function portOf(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const port = Number(text);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new ConfigError('backend-setup: bad --port', [
      { path: '--port', message: `${text}: must be 1-65535` },
    ]);
  }
  return port;
}

/**
 * `portlb backend-setup`: on a backend (an init container, the node agent of a backend node, or
 * by hand), the decapsulation, the VIP as local address and what direct return needs. Exit 0 when
 * the backend can take tunnelled flows, 1 with what is missing.
 */
export async function runBackendSetup(options: BackendSetupCliOptions): Promise<number> {
  const config = await loadConfig(options.config);
  const address = options.address ?? config.identity.podIp;
  if (address === undefined) {
    throw new ConfigError('backend-setup: which backend is this?', [
      { path: '--address', message: "give this backend's address, or set POD_IP" },
    ]);
  }
  const { run } = createSystem({ netns: options.netns });
  const setup = { config, address, port: portOf(options.port) };
  const report: BackendReport = options.remove
    ? await removeBackend(run, setup)
    : await setUpBackend(run, setup);
  if (options.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else {
    const done = report.changed.length > 0 ? report.changed.join('\n') : 'nothing to change';
    process.stdout.write(`${done}\n`);
    for (const problem of report.problems) process.stderr.write(`problem: ${problem}\n`);
  }
  return report.problems.length > 0 ? 1 : 0;
}
