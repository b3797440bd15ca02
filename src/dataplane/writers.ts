import type { DataPlaneConfig } from '../config/schema.js';
import { createKeepalivedWriter } from './keepalived-writer.js';
import { createNftablesWriter } from './nftables-writer.js';
import type { RuleWriter } from './port.js';
import type { DataPlaneSystem } from './system.js';

/** nftables does it all for `kind: nftables`; with ipvs, keepalived picks the backend and nftables adds the source NAT. */
export function createWriters(dataPlane: DataPlaneConfig, system: DataPlaneSystem): RuleWriter[] {
  const nftables = createNftablesWriter(system.run);
  return dataPlane.kind === 'ipvs' ? [nftables, createKeepalivedWriter(system, dataPlane.ipvs)] : [nftables];
}
