import { contains, overlaps, type Prefix, parsePrefix } from '../core/cidr.js';
import type { Problem } from '../errors.js';
import { MAX_HOLD_TIME_WITHOUT_OVERRIDE } from './schema.js';

/*
 * Checks that span fields. They read the raw document defensively rather than the parsed config,
 * so that they still run, and report, when some other field is malformed: the operator sees every
 * problem in one go.
 */

type Loose = Record<string, unknown>;

function record(value: unknown): Loose {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Loose) : {};
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function prefixes(value: unknown, label: (i: number) => string): { path: string; prefix: Prefix }[] {
  return list(value).flatMap((text, i) => {
    const result = typeof text === 'string' ? parsePrefix(text) : undefined;
    return result?.ok ? [{ path: label(i), prefix: result.prefix }] : [];
  });
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

export function crossFieldProblems(document: unknown): Problem[] {
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

  const pools = prefixes(doc.allowedVipPools, (i) => `allowedVipPools[${i}]`);
  const vips = prefixes(
    services.map((s) => s.vip),
    (i) => `services[${i}].vip`,
  );
  const networks = record(doc.clusterNetworks);
  const reserved = [
    ...prefixes(networks.nodes, (i) => `clusterNetworks.nodes[${i}]`),
    ...prefixes(networks.pods, (i) => `clusterNetworks.pods[${i}]`),
    ...prefixes(record(doc.aws).vpcCidrs, (i) => `aws.vpcCidrs[${i}]`),
  ];
  const poolText = pools.map((p) => p.prefix.text).join(', ') || 'none';
  for (const [index, vip] of vips.entries()) {
    if (!pools.some((pool) => contains(pool.prefix, vip.prefix))) {
      add(vip.path, `${vip.prefix.text} is outside allowedVipPools (${poolText})`);
    }
    for (const other of vips.slice(index + 1)) {
      if (overlaps(vip.prefix, other.prefix))
        add(other.path, `${other.prefix.text} overlaps ${vip.path} (${vip.prefix.text})`);
    }
    for (const range of reserved) {
      if (overlaps(vip.prefix, range.prefix)) {
        add(
          vip.path,
          `${vip.prefix.text} overlaps ${range.path} (${range.prefix.text}): a VIP must not shadow node, pod or VPC addresses`,
        );
      }
    }
  }

  const bgp = record(doc.bgp);
  if (bgp.allowLongHoldTime !== true) {
    const check = (path: string, value: unknown) => {
      if (typeof value === 'number' && value > MAX_HOLD_TIME_WITHOUT_OVERRIDE) {
        add(
          path,
          `${value} s is above ${MAX_HOLD_TIME_WITHOUT_OVERRIDE} s: a dead LB would keep its traffic that long; set bgp.allowLongHoldTime: true to accept it`,
        );
      }
    };
    check('bgp.holdTime', bgp.holdTime);
    for (const [i, peer] of list(bgp.peers).entries())
      check(`bgp.peers[${i}].holdTime`, record(peer).holdTime);
  }
  return problems;
}
