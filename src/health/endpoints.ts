import ipaddr from 'ipaddr.js';
import type { HealthConfig, ServiceConfig } from '../config/schema.js';
import { prefix } from '../core/cidr.js';
import type { BackendSource } from '../sources/backends.js';
import type { Endpoint } from './probe.js';

/** What to probe now (backends come and go), or why this service cannot be probed at all. */
export type ProbeTargets = { readonly endpoints: () => Endpoint[] } | { readonly unavailable: string };

/** The address a VIP range is probed at: its first host address (the range itself for /31, /32, /127, /128). */
export function vipProbeAddress(vip: string): string {
  const p = prefix(vip);
  const [network] = ipaddr.parseCIDR(vip);
  const bytes = network.toByteArray();
  const hostBits = (p.family === 4 ? 32 : 128) - p.length;
  if (hostBits > 1) bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) + 1; // network addresses end in 0 bits
  return ipaddr.fromByteArray(bytes).toString();
}

/**
 * What a service's health probe connects to. Through `backends`: its current backends (static, or
 * the ready EndpointSlice endpoints), passing if any answers. Through `vip`: the VIP's first
 * address on each TCP port, which only the local data plane answers (it accepts the range as local).
 */
export function probeTargets(
  service: ServiceConfig,
  health: HealthConfig,
  backends: BackendSource,
  hasKubernetes: boolean,
): ProbeTargets {
  if (health.probe.through === 'vip') {
    const ports = service.ports.filter((p) => p.protocol === 'TCP');
    if (ports.length === 0) return { unavailable: `service ${service.name} has no TCP port to probe` };
    const host = vipProbeAddress(service.vip);
    const endpoints = ports.map((p) => ({ host, port: p.port }));
    return { endpoints: () => endpoints };
  }
  if ('kubernetes' in service.backends && !hasKubernetes) {
    return {
      unavailable: `service ${service.name} has Kubernetes backends but the config has no "kubernetes" section to list them`,
    };
  }
  return { endpoints: () => backends.backends(service.name).map((b) => ({ host: b.address, port: b.port })) };
}
