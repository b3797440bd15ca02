import { addressFamily, parseAddress, parsePrefix } from '../core/cidr.js';
import type { Problem } from '../errors.js';
import { instanceUrl, networkInterfaceId } from './fields.js';
import { type Loose, list, record } from './loose.js';
import { MAX_HOLD_TIME_WITHOUT_OVERRIDE } from './schema.js';
import { SPECIAL_PURPOSE_CATEGORIES, type SpecialPurpose } from './special.js';
import { type Placed, vipProblems } from './vips.js';

/*
 * Checks that span fields. They read the raw document defensively rather than the parsed config,
 * so that they still run, and report, when some other field is malformed: the operator sees every
 * problem in one go.
 */

function placed(text: unknown, path: string): Placed | undefined {
  if (typeof text !== 'string') return undefined;
  const result = parsePrefix(text);
  return result.ok ? { path, text, prefix: result.prefix } : undefined;
}

/** The ranges of a list, each distinct text once (under its first path). */
function prefixes(value: unknown, label: (i: number) => string): Placed[] {
  const seen = new Set<unknown>();
  return list(value).flatMap((text, i) => {
    if (seen.has(text)) return [];
    seen.add(text);
    return placed(text, label(i)) ?? [];
  });
}

/**
 * Every entry, or undefined when the list is empty, not a list, or has an entry that does not
 * parse: a check must not run on half a list (the schema reports what is wrong with it).
 */
function allPrefixes(value: unknown, label: (i: number) => string): Placed[] | undefined {
  const entries = list(value);
  const parses = entries.every((text) => typeof text === 'string' && parsePrefix(text).ok);
  return entries.length > 0 && parses ? prefixes(value, label) : undefined;
}

function host(value: unknown, path: string): Placed[] {
  if (typeof value !== 'string') return [];
  const parsed = parseAddress(value);
  return parsed.ok ? [{ path, text: value, prefix: parsed.host }] : [];
}

/** One entry per address (the first place it is named): backends repeat across services. */
function distinct(hosts: { value: unknown; path: string }[]): Placed[] {
  const seen = new Set<unknown>();
  return hosts.flatMap(({ value, path }) => {
    if (seen.has(value)) return [];
    seen.add(value);
    return host(value, path);
  });
}

/**
 * Addresses a VIP must not capture, or portlb would route away what it needs to reach: its BGP
 * peers and router, the next hops it announces, the backends it probes, its own node and pod.
 */
function hostsPortlbNeeds(doc: Loose, services: Loose[], env: NodeJS.ProcessEnv): Placed[] {
  const bgp = record(doc.bgp);
  return distinct([
    ...list(bgp.peers).map((p, i) => ({ value: record(p).address, path: `bgp.peers[${i}].address` })),
    { value: record(record(bgp.topology).router).address, path: 'bgp.topology.router.address' },
    ...list(doc.targets).map((t, i) => ({ value: record(t).address, path: `targets[${i}].address` })),
    ...services.flatMap((s, i) =>
      list(record(s.backends).static).map((b, j) => ({
        value: record(b).address,
        path: `services[${i}].backends.static[${j}].address`,
      })),
    ),
    { value: env.HOST_IP, path: 'env.HOST_IP' },
    { value: env.POD_IP, path: 'env.POD_IP' },
  ]);
}

/** An address's canonical text, so that `2001:DB8::1` and `2001:db8::1` count as one. */
function addressKey(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const parsed = parseAddress(value);
  return parsed.ok ? parsed.text : value;
}

function duplicates(
  values: unknown[],
  path: (i: number) => string,
  what: string,
  add: (p: string, m: string) => void,
): void {
  const first = new Map<unknown, number>();
  values.forEach((value, i) => {
    if (typeof value !== 'string') return;
    const seen = first.get(value);
    if (seen === undefined) first.set(value, i);
    else add(path(i), `"${value}" is already used by ${what}[${seen}]`);
  });
}

export function crossFieldProblems(document: unknown, env: NodeJS.ProcessEnv = {}): Problem[] {
  const problems: Problem[] = [];
  const add = (path: string, message: string) => problems.push({ path, message });
  const doc = record(document);
  const services = list(doc.services).map(record);

  const needs: Record<string, string[]> = { bgp: ['bgp'], auto: ['bgp'], aws: ['aws'], gcp: ['gcp'] };
  for (const section of needs[String(doc.mode)] ?? []) {
    if (doc[section] === undefined) {
      const why = doc.mode === 'auto' ? ' (auto falls back to BGP on-prem)' : '';
      add(section, `mode ${String(doc.mode)} needs a "${section}" section${why}`);
    }
  }
  // auto picks aws or gcp from the node; without their sections it would start, then do nothing
  // on a cloud node. Such a config means BGP everywhere, which is what mode bgp says.
  if (doc.mode === 'auto' && doc.aws === undefined && doc.gcp === undefined) {
    add(
      'mode',
      'mode auto needs an "aws" or "gcp" section besides "bgp": on a cloud node it picks that cloud, and without its section nothing routes the VIP; write mode: bgp for BGP everywhere',
    );
  }

  duplicates(
    services.map((s) => s.name),
    (i) => `services[${i}].name`,
    'services',
    add,
  );
  duplicates(
    list(doc.targets).map((t) => record(t).node),
    (i) => `targets[${i}].node`,
    'targets',
    add,
  );
  duplicates(
    list(doc.targets).map((t) => addressKey(record(t).address)),
    (i) => `targets[${i}].address`,
    'targets',
    add,
  );
  problems.push(...cloudTargetProblems(doc));
  for (const [s, service] of services.entries()) {
    duplicates(
      list(service.ports).map((p) => `${String(record(p).port)}/${String(record(p).protocol ?? 'TCP')}`),
      (i) => `services[${s}].ports[${i}]`,
      `services[${s}].ports`,
      add,
    );
  }

  const networks = record(doc.clusterNetworks);
  const allowed = new Set(
    list(doc.allowSpecialPurposeVips).filter((c): c is SpecialPurpose =>
      (SPECIAL_PURPOSE_CATEGORIES as readonly unknown[]).includes(c),
    ),
  );
  problems.push(
    ...vipProblems({
      vips: services.map((s, i) => placed(s.vip, `services[${i}].vip`)),
      pools: allPrefixes(doc.allowedVipPools, (i) => `allowedVipPools[${i}]`),
      reserved: [
        ...prefixes(networks.nodes, (i) => `clusterNetworks.nodes[${i}]`),
        ...prefixes(networks.pods, (i) => `clusterNetworks.pods[${i}]`),
        ...prefixes(record(doc.aws).vpcCidrs, (i) => `aws.vpcCidrs[${i}]`),
        ...hostsPortlbNeeds(doc, services, env),
      ],
      allowedSpecial: allowed,
    }),
  );

  if (doc.bgp !== undefined)
    problems.push(...bgpProblems(record(doc.bgp), doc.mode === 'aws' || doc.mode === 'gcp' ? {} : env));
  const tables = record(record(doc.aws).routeTables);
  duplicates(list(tables.ids), (i) => `aws.routeTables.ids[${i}]`, 'aws.routeTables.ids', add);
  return problems;
}

function bgpProblems(bgp: Loose, env: NodeJS.ProcessEnv): Problem[] {
  const problems: Problem[] = [];
  const add = (path: string, message: string) => problems.push({ path, message });
  const peers = list(bgp.peers).map(record);
  if (bgp.allowLongHoldTime !== true) {
    const check = (path: string, value: unknown) => {
      if (value === 0) {
        add(
          path,
          '0 turns keepalives off: a dead LB would keep its traffic until someone notices; set bgp.allowLongHoldTime: true to accept it',
        );
      } else if (typeof value === 'number' && value > MAX_HOLD_TIME_WITHOUT_OVERRIDE) {
        add(
          path,
          `${value} s is above ${MAX_HOLD_TIME_WITHOUT_OVERRIDE} s: a dead LB would keep its traffic that long; set bgp.allowLongHoldTime: true to accept it`,
        );
      }
    };
    check('bgp.holdTime', bgp.holdTime);
    for (const [i, peer] of peers.entries()) check(`bgp.peers[${i}].holdTime`, peer.holdTime);
  }
  duplicates(
    peers.map((p) => addressKey(p.address)),
    (i) => `bgp.peers[${i}].address`,
    'bgp.peers',
    add,
  );
  const router = record(record(bgp.topology).router);
  const routerAt = peers.findIndex(
    (p) => router.address !== undefined && addressKey(p.address) === addressKey(router.address),
  );
  if (routerAt >= 0) {
    add(
      'bgp.topology.router.address',
      `is bgp.peers[${routerAt}], a route reflector, not the upstream router`,
    );
  }
  // A BGP identifier is 32 bits: the node's or pod's own address serves only when it is IPv4.
  const from = { 'node-ip': 'HOST_IP', 'pod-ip': 'POD_IP' }[String(bgp.routerId ?? 'node-ip')];
  const own = from === undefined ? undefined : env[from];
  if (own !== undefined && addressFamily(own) === 6) {
    add(
      'bgp.routerId',
      `${String(bgp.routerId ?? 'node-ip')} would be ${from}=${own}, an IPv6 address; a router id is 32 bits: set bgp.routerId to a dotted quad`,
    );
  }
  return problems;
}

/** What a static target's cloudTarget must be in the modes that use it. */
const CLOUD_TARGETS = {
  aws: { schema: networkInterfaceId, what: 'a network interface id (eni-...)' },
  gcp: { schema: instanceUrl, what: 'an instance URL (projects/P/zones/Z/instances/NAME)' },
} as const;

function cloudTargetProblems(doc: Loose): Problem[] {
  const byMode: Record<string, readonly (keyof typeof CLOUD_TARGETS)[]> = {
    aws: ['aws'],
    gcp: ['gcp'],
    auto: ['aws', 'gcp'],
  };
  const modes = byMode[String(doc.mode)] ?? [];
  if (modes.length === 0) return [];
  return list(doc.targets).flatMap((target, i) => {
    const cloud = record(target).cloudTarget;
    if (typeof cloud !== 'string' || modes.some((m) => CLOUD_TARGETS[m].schema.safeParse(cloud).success))
      return [];
    const what = modes.map((m) => CLOUD_TARGETS[m].what).join(' or ');
    return [{ path: `targets[${i}].cloudTarget`, message: `"${cloud}" is not ${what}` }];
  });
}
