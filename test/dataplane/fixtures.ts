import { fileURLToPath } from 'node:url';
import { type Config, loadConfig, parseConfig } from '../../src/config/load.js';
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
    tableSize: d.tableSize,
    tunnel: d.tunnel,
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

/** The fixture's IPv4 services (web, dns) with `forwarding: tunnel` and a small Maglev table. */
export async function tunnelModel(overrides: Partial<DataPlaneConfig> = {}): Promise<PlaneModel> {
  const config = await servicesConfig();
  const base = config.dataPlane ?? DEFAULT_DATA_PLANE;
  return modelFromConfig({
    ...config,
    services: config.services.filter((s) => s.name !== 'web6'),
    dataPlane: { ...base, forwarding: 'tunnel', tableSize: 251, ...overrides },
  });
}

export interface WebFixture {
  backends?: { address: string; port: number }[];
  dataPlane?: Record<string, unknown>;
  services?: Record<string, unknown>[];
  ports?: { port: number; protocol?: 'TCP' | 'UDP' }[];
}

/**
 * One IPv4 TCP service (web, 10.1.1.0/24 port 80) with static backends, `forwarding: tunnel`
 * unless `dataPlane` says otherwise, and the given data-plane and service fields, as a config
 * file would say it.
 */
export function webInput(options: WebFixture = {}): Record<string, unknown> {
  const backends = options.backends ?? [
    { address: '10.98.0.21', port: 8080 },
    { address: '10.98.0.22', port: 8080 },
  ];
  return {
    mode: 'bgp',
    owner: 'lab',
    allowedVipPools: ['10.1.0.0/16'],
    services: [
      {
        name: 'web',
        vip: '10.1.1.0/24',
        ports: options.ports ?? [{ port: 80 }],
        backends: { static: backends },
      },
      ...(options.services ?? []),
    ],
    bgp: { localAs: 65000, peers: [{ address: '10.99.0.2', as: 65000 }] },
    dataPlane: { forwarding: 'tunnel', seed: 0x5eed, ...options.dataPlane },
  };
}

/** `webInput`, parsed: what the data-plane tests with one web service configure. */
export const webConfig = (options: WebFixture = {}): Config => parseConfig(webInput(options), {});
