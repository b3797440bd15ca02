import type { Frontend, PlaneModel, PlaneService } from './model.js';
import {
  formatChain,
  formatTable,
  frontendChain,
  intentOf,
  ownerChain,
  type RenderedNftables,
  tableOf,
} from './nft-table.js';
import { forwardingOf, ipOf, type NftChain, type NftForwarding } from './nftables-forwarding.js';
import { renderTunnelTable } from './render-tunnel.js';

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

/**
 * portlb's nftables table for a model, in the form `nft list` prints it. Deterministic: the same
 * model gives the same bytes on every LB, and the same intent hash.
 */
export function renderNftables(model: PlaneModel): RenderedNftables {
  if (model.kind === 'nftables' && model.forwarding === 'tunnel') return renderTunnelTable(model);
  const chains = chainsOf(model, forwardingOf(model));
  const intent = intentOf(formatTable('inet', model.owner, chains.map(formatChain)));
  const all = [...chains, ownerChain(model.owner, intent)];
  const body = formatTable('inet', model.owner, all.map(formatChain));
  const table = tableOf('inet');
  // Declaring the table first makes the delete valid when it does not exist yet; the three lines
  // are one transaction, so the kernel switches from the old table to the new one at once.
  const script = `${table}\ndelete ${table}\n${body}`;
  return {
    family: 'inet',
    body,
    script,
    scriptFor: () => script,
    ruleMaps: [],
    intent,
    owner: model.owner,
    shape: Object.fromEntries(all.map((c) => [c.name, c.rules.length])),
  };
}
