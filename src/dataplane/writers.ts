import type { DataPlaneConfig } from '../config/schema.js';
import { createKeepalivedWriter } from './keepalived-writer.js';
import { createNftablesWriter } from './nftables-writer.js';
import type { RuleWriter } from './port.js';
import type { DataPlaneSystem } from './system.js';
import { createTunnelWriter } from './tunnel-writer.js';

/**
 * nftables does it all for `kind: nftables`, with the tunnel device before it for `forwarding:
 * tunnel`; with ipvs, keepalived picks the backend and nftables adds the source NAT.
 */
export function createWriters(dataPlane: DataPlaneConfig, system: DataPlaneSystem): RuleWriter[] {
  const nftables = createNftablesWriter(system.run);
  if (dataPlane.kind === 'ipvs') return [nftables, createKeepalivedWriter(system, dataPlane.ipvs)];
  return dataPlane.forwarding === 'tunnel' ? [createTunnelWriter(system.run), nftables] : [nftables];
}
