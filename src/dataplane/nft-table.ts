import { createHash } from 'node:crypto';
import type { Frontend } from './model.js';
import type { NftChain } from './nftables-forwarding.js';
import type { LiveTable } from './nftables-live.js';

/*
 * What every portlb nftables table shares, whichever forwarding writes it: its name, the owner
 * rule, the rendered result, and how `nft list` prints chains and tables.
 */

/**
 * The one table portlb writes; every other table is someone else's. `nat` (and ipvs's source NAT)
 * write it in the `inet` family; `tunnel` in `netdev`, the family whose ingress hook can `fwd`.
 */
export const NFT_TABLE = { family: 'inet', name: 'portlb' } as const;
export type NftFamily = 'inet' | 'netdev';
export const tableOf = (family: NftFamily) => `table ${family} ${NFT_TABLE.name}`;
/** The chain whose only rule carries the owner and the hash of the rules (`nft -j` shows rule comments). */
export const OWNER_CHAIN = 'owner';

export interface RenderedNftables {
  readonly family: NftFamily;
  /** The table as `nft list table inet portlb` prints it (the netdev table: up to the order of map elements). */
  readonly body: string;
  /** What `nft -f` gets when there is no table yet: one transaction that touches nothing else. */
  readonly script: string;
  /**
   * The one transaction that turns the table there now into this one. `nat` replaces it whole;
   * `tunnel` keeps its flow maps (the flows' backends) and replaces everything else.
   */
  scriptFor(live: LiveTable | undefined): string;
  /** Maps whose elements are rules (Maglev tables): read back one by one, the table itself without elements. */
  readonly ruleMaps: readonly string[];
  /** Hash of the rules; the owner rule carries it, so a restart can tell its own table is current. */
  readonly intent: string;
  readonly owner: string;
  /** Rules per chain, for telling a table that only carries the right marker from the right table. */
  readonly shape: Readonly<Record<string, number>>;
}

export const ownerMarker = (owner: string, intent: string) => `portlb owner=${owner} rules=${intent}`;

/** Chain names are nft identifiers; service names are DNS labels, so a prefix is all they need. */
export const frontendChain = (service: string, f: Frontend) => `svc-${service}-${f.protocol}-${f.port}`;

export function formatChain(chain: NftChain): string {
  const lines = [`\tchain ${chain.name} {`];
  if (chain.hook) {
    const h = chain.hook;
    const devices = h.devices ?? [];
    const on =
      devices.length === 0
        ? ''
        : devices.length === 1
          ? ` device "${devices[0]}"`
          : ` devices = { ${devices.join(', ')} }`;
    lines.push(`\t\ttype ${h.type} hook ${h.hook}${on} priority ${h.priority}; policy accept;`);
  }
  for (const rule of chain.rules) lines.push(`\t\t${rule}`);
  lines.push('\t}');
  return lines.join('\n');
}

export const tableComment = (owner: string) =>
  `\tcomment "managed by portlb (owner ${owner}): changes made here are replaced"`;

/** A table as `nft list` prints it: the comment, then each block (map, chain) with a blank line between. */
export function formatTable(family: NftFamily, owner: string, blocks: readonly string[]): string {
  return `${tableOf(family)} {\n${tableComment(owner)}\n${blocks.join('\n\n')}\n}\n`;
}

/** The intent hash of a table's text: the owner rule carries it. */
export const intentOf = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 16);

/** The owner chain, whose only rule's comment says whose table this is and which rules it holds. */
export const ownerChain = (owner: string, intent: string): NftChain => ({
  name: OWNER_CHAIN,
  rules: [`accept comment "${ownerMarker(owner, intent)}"`],
});

/** What the kernel keeps of a flow map's definition: a kept map must still match it. */
export const flowMapDefinition = (size: number, timeoutSeconds: number) =>
  `size=${size} timeout=${timeoutSeconds}`;

/** A base chain's hook as the kernel keeps it: a kept chain must still match it. */
export const hookSpec = (hook: string, priority: number, devices: readonly string[]) =>
  `${hook} ${priority} ${[...devices].sort().join(',')}`;
