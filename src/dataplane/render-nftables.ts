import { createHash } from 'node:crypto';
import type { Frontend, PlaneModel, PlaneService } from './model.js';
import { forwardingOf, ipOf, type NftChain, type NftForwarding } from './nftables-forwarding.js';

/** The one table portlb writes; every other table is someone else's. */
export const NFT_TABLE = { family: 'inet', name: 'portlb' } as const;
/** The chain whose only rule carries the owner and the hash of the rules (`nft -j` shows rule comments). */
export const OWNER_CHAIN = 'owner';

export interface RenderedNftables {
  /** The table as `nft list table inet portlb` prints it. */
  readonly body: string;
  /** What `nft -f` gets: one transaction that replaces portlb's table and touches nothing else. */
  readonly script: string;
  /** Hash of the rules; the owner rule carries it, so a restart can tell its own table is current. */
  readonly intent: string;
  readonly owner: string;
  /** Rules per chain, for telling a table that only carries the right marker from the right table. */
  readonly shape: Readonly<Record<string, number>>;
}

export const ownerMarker = (owner: string, intent: string) => `portlb owner=${owner} rules=${intent}`;

/** Chain names are nft identifiers; service names are DNS labels, so a prefix is all they need. */
export const frontendChain = (service: string, f: Frontend) => `svc-${service}-${f.protocol}-${f.port}`;

function dispatchRule(service: string, f: Frontend): string {
  return `${ipOf(f.family)} daddr ${f.vip} ${f.protocol} dport ${f.port} jump ${frontendChain(service, f)}`;
}

function chainsOf(model: PlaneModel, forwarding: NftForwarding): NftChain[] {
  // A service without a ready backend gets no rules: its VIP is answered by the local stack
  // (refused), and established flows keep their conntrack NAT binding.
  const served = model.services.filter((s) => s.backends.length > 0);
  const routed = forwarding.dispatch.length > 0 ? served : [];
  const dispatch = forwarding.dispatch.map(({ name, ...hook }) => ({
    name,
    hook,
    rules: routed.flatMap((s) => s.frontends.map((f) => dispatchRule(s.name, f))),
  }));
  const perFrontend = routed.flatMap((s: PlaneService) =>
    s.frontends.map((f) => ({
      name: frontendChain(s.name, f),
      rules: forwarding.frontendRules(f, s.backends, model.seed),
    })),
  );
  return [...dispatch, ...perFrontend, ...forwarding.after(served.flatMap((s) => s.frontends))];
}

function formatChain(chain: NftChain): string {
  const lines = [`\tchain ${chain.name} {`];
  if (chain.hook) {
    const h = chain.hook;
    lines.push(`\t\ttype ${h.type} hook ${h.hook} priority ${h.priority}; policy accept;`);
  }
  for (const rule of chain.rules) lines.push(`\t\t${rule}`);
  lines.push('\t}');
  return lines.join('\n');
}

function formatTable(owner: string, chains: readonly NftChain[]): string {
  const table = `table ${NFT_TABLE.family} ${NFT_TABLE.name}`;
  const comment = `\tcomment "managed by portlb (owner ${owner}): changes made here are replaced"`;
  return `${table} {\n${comment}\n${chains.map(formatChain).join('\n\n')}\n}\n`;
}

/**
 * portlb's nftables table for a model, in the form `nft list` prints it. Deterministic: the same
 * model gives the same bytes on every LB, and the same intent hash.
 */
export function renderNftables(model: PlaneModel): RenderedNftables {
  const chains = chainsOf(model, forwardingOf(model));
  const intent = createHash('sha256').update(formatTable(model.owner, chains)).digest('hex').slice(0, 16);
  const owner: NftChain = {
    name: OWNER_CHAIN,
    rules: [`accept comment "${ownerMarker(model.owner, intent)}"`],
  };
  const all = [...chains, owner];
  const body = formatTable(model.owner, all);
  const table = `table ${NFT_TABLE.family} ${NFT_TABLE.name}`;
  // Declaring the table first makes the delete valid when it does not exist yet; the three lines
  // are one transaction, so the kernel switches from the old table to the new one at once.
  const script = `${table}\ndelete ${table}\n${body}`;
  return {
    body,
    script,
    intent,
    owner: model.owner,
    shape: Object.fromEntries(all.map((c) => [c.name, c.rules.length])),
  };
}
