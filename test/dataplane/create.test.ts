import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { DEFAULT_DATA_PLANE, type ServiceConfig } from '../../src/config/schema.js';
import { createDataPlane } from '../../src/dataplane/create.js';
import { silentLogger } from '../../src/runtime/logger.js';
import type { BackendSource } from '../../src/sources/backends.js';

const web: ServiceConfig = {
  name: 'web',
  vip: '10.1.1.0/24',
  ports: [{ port: 80, protocol: 'TCP' }],
  backends: { static: [{ address: '10.98.0.21', port: 8080 }] },
};
const backends: BackendSource = { backends: () => [], onChange: () => () => {} };

function checksOf(ownTraffic: boolean): string[] {
  const controller = createDataPlane({
    config: { owner: 'lab', services: [web] },
    backends,
    logger: silentLogger(),
    registry: new Registry(),
    // Nothing runs: the controller is only built, never synced.
    system: {
      run: async () => ({ stdout: '', stderr: '' }),
      readProc: async () => undefined,
      readFile: async () => undefined,
      replaceFile: async () => {},
      signal: async () => {},
    },
    dataPlane: { forwarding: 'tunnel', tunnel: { ...DEFAULT_DATA_PLANE.tunnel, ownTraffic } },
  });
  return Object.keys(controller.status().checks ?? {}).sort();
}

describe('createDataPlane, forwarding tunnel', () => {
  it('checks each backend through the tunnel and the other LBs’ tables', () => {
    expect(checksOf(true)).toEqual(['maglev', 'tunnel']);
  });

  it('has no per-backend check without ownTraffic: its pings could not go through the tunnel', () => {
    expect(checksOf(false)).toEqual(['maglev']);
  });
});
