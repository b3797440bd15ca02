import { ipv4Bytes, jhash } from '../core/jhash.js';
import {
  buildMaglevTable,
  checkTableSize,
  type MaglevTable,
  movedFraction,
  tableFingerprint,
} from '../core/maglev.js';
import { backendKey, type PlaneBackend, type PlaneModel, type PlaneService } from './model.js';

/*
 * What `forwarding: tunnel` derives from the model, pure: each service's Maglev table, the MAC
 * address that names a backend inside the tunnel, and the mark that picks it for a probe.
 *
 * A backend is reached through the LB's VXLAN device: the LB writes the backend's MAC as the
 * inner destination and the device's forwarding table sends frames for that MAC to the backend's
 * address. The MAC is derived from the address (02:70 + its four bytes), so the backend's own
 * setup (`portlb backend-setup`) gives its VXLAN device the same MAC knowing only its address.
 */

/** Locally administered, unicast: 0x02, then 0x70 ('p'). */
const MAC_PREFIX = [0x02, 0x70] as const;

/** The inner destination MAC of frames for this backend, and its VXLAN device's own MAC. */
export const tunnelMac = (address: string): string =>
  [...MAC_PREFIX, ...ipv4Bytes(address)].map((b) => b.toString(16).padStart(2, '0')).join(':');

/** The backend's IPv4 address as a 32-bit number: the packet mark that sends a probe to it. */
export const backendMark = (address: string): number =>
  ipv4Bytes(address).reduce((value, byte) => value * 256 + byte, 0);

/** The Maglev table of a service's ready backends, in their canonical order. */
export const maglevTableOf = (
  service: Pick<PlaneService, 'backends'>,
  model: Pick<PlaneModel, 'seed' | 'tableSize'>,
): MaglevTable => buildMaglevTable(service.backends.map(backendKey), model.tableSize, model.seed);

/** Ready and draining backends of every service, one per address: the tunnel's endpoints. */
export function tunnelEndpoints(model: Pick<PlaneModel, 'services'>): PlaneBackend[] {
  const byAddress = new Map<string, PlaneBackend>();
  for (const s of model.services) for (const b of [...s.backends, ...s.draining]) byAddress.set(b.address, b);
  return [...byAddress.values()].sort((a, b) => backendMark(a.address) - backendMark(b.address));
}

/**
 * Why a service's checked backend list cannot be tunnelled: the tunnel reaches an address, so two
 * backends on one address (different ports) cannot be told apart; and the Maglev table needs more
 * entries than backends.
 */
export function tunnelProblems(backends: readonly PlaneBackend[], tableSize: number | undefined): string[] {
  const problems: string[] = [];
  const seen = new Map<string, PlaneBackend>();
  for (const b of backends) {
    const other = seen.get(b.address);
    if (other !== undefined) {
      problems.push(
        `${backendKey(b)}: same address as ${backendKey(other)}; tunnel forwarding reaches an address, not a port`,
      );
    }
    seen.set(b.address, b);
  }
  const size = tableSize === undefined ? undefined : checkTableSize(tableSize, backends.length);
  if (size !== undefined) problems.push(`${size} (dataPlane.tableSize)`);
  return problems;
}

/** What every LB of a service must agree on, published on /readyz so that LBs can compare. */
export interface MaglevReport {
  readonly seed: number;
  readonly tableSize: number;
  readonly services: Readonly<
    Record<
      string,
      {
        readonly backends: number;
        /** Hash of the ordered backend list: equal lists, equal hashes. */
        readonly backendSet: string;
        /** `tableFingerprint`: equal lists with unequal tables mean the LBs hash differently. */
        readonly fingerprint: string;
      }
    >
  >;
}

const listHash = (keys: readonly string[]) =>
  jhash(new TextEncoder().encode(keys.join('\n')), 0x6c697374)
    .toString(16)
    .padStart(8, '0');

export function maglevReport(model: PlaneModel): MaglevReport {
  return {
    seed: model.seed,
    tableSize: model.tableSize,
    services: Object.fromEntries(
      model.services
        .filter((s) => s.backends.length > 0)
        .map((s) => [
          s.name,
          {
            backends: s.backends.length,
            backendSet: listHash(s.backends.map(backendKey)),
            fingerprint: tableFingerprint(maglevTableOf(s, model)),
          },
        ]),
    ),
  };
}

/** The limits a data plane adds to every backend list it accepts (`checkBackends`' last argument). */
export function backendLimits(
  dataPlane: Pick<PlaneModel, 'forwarding' | 'kind' | 'tableSize'>,
): ((accepted: readonly PlaneBackend[]) => string[]) | undefined {
  if (dataPlane.forwarding !== 'tunnel') return undefined;
  // ipvs keeps its own Maglev table; its TUN real servers are addresses on the service port.
  const size = dataPlane.kind === 'nftables' ? dataPlane.tableSize : undefined;
  return (accepted) => tunnelProblems(accepted, size);
}

/**
 * `backendChange` of `bench:traffic --survival`: the share of new-flow mappings (Maglev buckets)
 * whose backend differs between two backend lists of a service, each in canonical order.
 */
export function backendChange(
  before: readonly PlaneBackend[],
  after: readonly PlaneBackend[],
  model: Pick<PlaneModel, 'seed' | 'tableSize'>,
): { backendsBefore: number; backendsAfter: number; movedFraction: number } {
  return {
    backendsBefore: before.length,
    backendsAfter: after.length,
    movedFraction: movedFraction(
      maglevTableOf({ backends: before }, model),
      maglevTableOf({ backends: after }, model),
    ),
  };
}
