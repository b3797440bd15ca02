import { fileURLToPath } from 'node:url';
import { type Config, loadConfig } from '../../src/config/load.js';
import { type DataPlaneConfig, DEFAULT_DATA_PLANE } from '../../src/config/schema.js';
import type { PlaneBackend, PlaneModel, PlaneService } from '../../src/dataplane/model.js';
import { modelFromConfig } from '../../src/dataplane/render.js';

export const dataPlaneFixture = (name: string) =>
  fileURLToPath(new URL(`../fixtures/dataplane/${name}`, import.meta.url));

/** The renderers' fixture: web (TCP 80, 443), dns (UDP 53, backends out of order), web6 (IPv6). */
export function servicesConfig(): Promise<Config> {
  return loadConfig(dataPlaneFixture('services.yaml'), {});
}

export async function servicesModel(overrides: Partial<DataPlaneConfig> = {}): Promise<PlaneModel> {
  const config = await servicesConfig();
  return modelFromConfig({
    ...config,
    dataPlane: { ...(config.dataPlane ?? DEFAULT_DATA_PLANE), ...overrides },
  });
}

export const v4 = (address: string, port = 8080): PlaneBackend => ({ address, port, family: 4 });

/** One IPv4 TCP service on 10.1.1.0/24 port 80. */
export function webModel(
  service: Partial<PlaneService> = {},
  dataPlane: Partial<DataPlaneConfig> = {},
): PlaneModel {
  const d = { ...DEFAULT_DATA_PLANE, ...dataPlane };
  return {
    owner: 'lab',
    kind: d.kind,
    forwarding: d.forwarding,
    seed: d.seed,
    ipvs: d.ipvs,
    services: [
      {
        name: 'web',
        vip: '10.1.1.0/24',
        frontends: [{ vip: '10.1.1.0/24', family: 4, protocol: 'tcp', port: 80 }],
        backends: [v4('10.98.0.21'), v4('10.98.0.22')],
        draining: [],
        ...service,
      },
    ],
  };
}
