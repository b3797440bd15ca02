import type { Frontend, PlaneBackend, PlaneModel } from './model.js';

/*
 * How a forwarding mode writes its nftables rules. The table around them (dispatch from VIP:port
 * to one chain per frontend, the ownership marker, the atomic replace) is the same for `nat` and
 * ipvs's source NAT; a mode brings its base chains, the rules that pick a backend for a new flow,
 * and the chains it needs after that. `tunnel` needs maps and a netdev table of its own, so it has
 * its own renderer (`render-tunnel.ts`) built from the same chain type and formatting.
 */

export interface NftHook {
  readonly type: 'nat' | 'filter';
  readonly hook: 'prerouting' | 'output' | 'postrouting' | 'input' | 'forward' | 'ingress' | 'egress';
  /** As `nft list` prints it (`dstnat`, `srcnat`, or a number where no name applies). */
  readonly priority: string;
  /** netdev hooks: the interfaces they run on. */
  readonly devices?: readonly string[];
}

export interface NftChain {
  readonly name: string;
  /** Present on base chains: where the kernel runs them. */
  readonly hook?: NftHook;
  readonly rules: readonly string[];
}

export interface NftForwarding {
  /** Base chains that send a new flow for a frontend to its chain (`jump`). */
  readonly dispatch: readonly (NftHook & { readonly name: string })[];
  /** The rules of one frontend's chain: choose a backend for a new flow. */
  frontendRules(frontend: Frontend, backends: readonly PlaneBackend[], seed: number): string[];
  /** Chains after the choice (source NAT, ...), for the frontends that have backends. */
  after(frontends: readonly Frontend[]): NftChain[];
}

export const ipOf = (family: 4 | 6) => (family === 4 ? 'ip' : 'ip6');
const hex = (seed: number) => `0x${seed.toString(16)}`;

/**
 * The 5-tuple hash every LB computes alike (same fields, same seed, same ordered list), so a flow
 * gets the same backend whichever LB the router's ECMP hands it to.
 */
export function flowHash(frontend: Frontend, modulus: number, seed: number): string {
  const ip = ipOf(frontend.family);
  const l4 = frontend.protocol;
  return `jhash ${ip} saddr . ${l4} sport . ${ip} daddr . ${l4} dport mod ${modulus} seed ${hex(seed)}`;
}

/** `ct original ...` for the flows that came in for a frontend: the masquerade rules match these only. */
function originalTo(frontend: Frontend): string {
  const ip = ipOf(frontend.family);
  return `meta l4proto ${frontend.protocol} ct original ${ip} daddr ${frontend.vip} ct original proto-dst ${frontend.port}`;
}

/** Source NAT to the LB's own address, so the backend's replies come back through it. */
function masquerade(name: string, frontends: readonly Frontend[], condition: string): NftChain[] {
  if (frontends.length === 0) return [];
  return [
    {
      name,
      hook: { type: 'nat', hook: 'postrouting', priority: 'srcnat' },
      rules: frontends.map((f) => `${originalTo(f)}${condition} masquerade`),
    },
  ];
}

/**
 * `nat`: DNAT to the hashed backend in prerouting (and output, for the LB's own probes to the
 * VIP), masquerade after. conntrack keeps each flow's NAT binding, so rewriting the rules never
 * moves an established flow: a backend taken out of the list keeps its flows until they end.
 */
export const natForwarding: NftForwarding = {
  dispatch: [
    { name: 'prerouting', type: 'nat', hook: 'prerouting', priority: 'dstnat' },
    { name: 'output', type: 'nat', hook: 'output', priority: '-100' },
  ],
  frontendRules(frontend, backends, seed) {
    const ip = ipOf(frontend.family);
    const entries = backends.map((b, i) => `${i} : ${b.address} . ${b.port}`).join(', ');
    return [`dnat ${ip} to ${flowHash(frontend, backends.length, seed)} map { ${entries} }`];
  },
  after: (frontends) => masquerade('postrouting', frontends, ' ct status dnat'),
};

/**
 * With `kind: ipvs`, ipvs picks the backend and rewrites the destination; nftables only adds the
 * source NAT (ipvs needs `net.ipv4.vs.conntrack=1` for it to see those flows).
 */
export const ipvsSnatForwarding: NftForwarding = {
  dispatch: [],
  frontendRules: () => [],
  after: (frontends) => masquerade('postrouting', frontends, ''),
};

/** With ipvs tunnelling (`lvs_method TUN`) nothing is rewritten: portlb's table holds only its owner rule. */
const noForwarding: NftForwarding = { dispatch: [], frontendRules: () => [], after: () => [] };

/** The inet table's forwarding (nftables `tunnel` has its own netdev table: `render-tunnel.ts`). */
export function forwardingOf(model: Pick<PlaneModel, 'kind' | 'forwarding'>): NftForwarding {
  if (model.kind === 'ipvs') return model.forwarding === 'tunnel' ? noForwarding : ipvsSnatForwarding;
  return natForwarding;
}
