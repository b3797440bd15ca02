import ipaddr from 'ipaddr.js';
import type { DataPlaneConfig, ServiceConfig } from '../config/schema.js';
import { addressFamily, containsAddress, prefix } from '../core/cidr.js';
import type { Backend } from '../sources/backends.js';

/*
 * What the data plane writes, as plain data: rendering (nftables, keepalived) is a pure function of
 * this model, so every LB that sees the same backends writes the same rules. Pure: no I/O, no clock.
 */

export type Protocol = 'tcp' | 'udp';
export type Family = 4 | 6;

/** One backend, with its address in canonical text so that every LB orders and hashes the same bytes. */
export interface PlaneBackend {
  readonly address: string;
  readonly port: number;
  readonly family: Family;
}

/** One VIP range and port a service listens on. */
export interface Frontend {
  readonly vip: string;
  readonly family: Family;
  readonly protocol: Protocol;
  readonly port: number;
}

export interface PlaneService {
  readonly name: string;
  /** The service's VIP range, canonical. */
  readonly vip: string;
  readonly frontends: readonly Frontend[];
  /** Ready backends in canonical order: new flows hash over exactly this list. */
  readonly backends: readonly PlaneBackend[];
  /** Backends that left the ready set less than the drain time ago: no new flows, established ones go on. */
  readonly draining: readonly PlaneBackend[];
}

export interface PlaneModel {
  readonly owner: string;
  readonly kind: DataPlaneConfig['kind'];
  readonly forwarding: DataPlaneConfig['forwarding'];
  readonly seed: number;
  /** `tunnel`: entries of each service's Maglev table. */
  readonly tableSize: number;
  readonly tunnel: DataPlaneConfig['tunnel'];
  readonly ipvs: DataPlaneConfig['ipvs'];
  readonly services: readonly PlaneService[];
}

export const backendKey = (b: Pick<PlaneBackend, 'address' | 'port'>): string =>
  b.address.includes(':') ? `[${b.address}]:${b.port}` : `${b.address}:${b.port}`;

function addressBytes(address: string): number[] {
  return ipaddr.parse(address).toByteArray();
}

/** Family, then address bytes, then port: the same order on every LB whatever order the source gave. */
export function compareBackends(a: PlaneBackend, b: PlaneBackend): number {
  if (a.family !== b.family) return a.family - b.family;
  const x = addressBytes(a.address);
  const y = addressBytes(b.address);
  for (let i = 0; i < x.length; i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  return a.port - b.port;
}

export function frontendsOf(service: Pick<ServiceConfig, 'vip' | 'ports'>): Frontend[] {
  const { family, text } = prefix(service.vip);
  return service.ports.map((p) => ({
    vip: text,
    family,
    protocol: p.protocol === 'UDP' ? 'udp' : 'tcp',
    port: p.port,
  }));
}

export interface ServiceBackends {
  readonly backends: readonly PlaneBackend[];
  readonly draining: readonly PlaneBackend[];
}

/** The model for a config, with each service's checked backends (none when `backendsOf` has none). */
export function planeModel(
  config: { readonly owner: string; readonly services: readonly ServiceConfig[] },
  dataPlane: DataPlaneConfig,
  backendsOf: (service: string) => ServiceBackends | undefined,
): PlaneModel {
  return {
    owner: config.owner,
    kind: dataPlane.kind,
    forwarding: dataPlane.forwarding,
    seed: dataPlane.seed,
    tableSize: dataPlane.tableSize,
    tunnel: dataPlane.tunnel,
    ipvs: dataPlane.ipvs,
    services: config.services.map((s) => ({
      name: s.name,
      vip: prefix(s.vip).text,
      frontends: frontendsOf(s),
      backends: backendsOf(s.name)?.backends ?? [],
      draining: backendsOf(s.name)?.draining ?? [],
    })),
  };
}

export type BackendCheck =
  | { readonly ok: true; readonly backends: PlaneBackend[] }
  | { readonly ok: false; readonly problems: string[] };

/**
 * A service's backend list as the data plane may write it, or every reason it may not: an
 * invalid address or port, the wrong address family for the VIP, an address inside the VIP range
 * (traffic would loop), or the same address:port twice. A refused list changes nothing.
 */
export function checkBackends(
  service: Pick<ServiceConfig, 'vip'>,
  backends: readonly Backend[],
  /** `tunnel` forwarding adds its own limits (`tunnelProblems`). */
  extra: (accepted: readonly PlaneBackend[]) => string[] = () => [],
): BackendCheck {
  const vip = prefix(service.vip);
  const problems: string[] = [];
  const seen = new Set<string>();
  const accepted: PlaneBackend[] = [];
  for (const b of backends) {
    const family = b.address.includes('%') ? undefined : addressFamily(b.address);
    const shown = `${b.address}:${b.port}`;
    if (family === undefined) {
      problems.push(`${shown}: "${b.address}" is not an IPv4 or IPv6 address`);
      continue;
    }
    if (!Number.isInteger(b.port) || b.port < 1 || b.port > 65535) {
      problems.push(`${shown}: port must be 1-65535`);
      continue;
    }
    if (family !== vip.family) {
      problems.push(`${shown}: an IPv${family} backend cannot serve the IPv${vip.family} VIP ${vip.text}`);
      continue;
    }
    if (containsAddress(vip, b.address)) {
      problems.push(`${shown}: inside the VIP range ${vip.text} (its traffic would loop)`);
      continue;
    }
    const backend = { address: ipaddr.parse(b.address).toString(), port: b.port, family };
    const key = backendKey(backend);
    if (seen.has(key)) {
      problems.push(`${shown}: listed twice`);
      continue;
    }
    seen.add(key);
    accepted.push(backend);
  }
  if (problems.length === 0) problems.push(...extra(accepted));
  return problems.length > 0
    ? { ok: false, problems }
    : { ok: true, backends: accepted.sort(compareBackends) };
}
