import { prefix } from '../core/cidr.js';
import { ConfigError } from '../errors.js';
import type { Frontend, PlaneBackend, PlaneModel, PlaneService } from './model.js';

/** The first line of every keepalived.conf portlb writes; a file without it is not portlb's to replace. */
export const keepalivedMarker = (owner: string) => `# managed by portlb (owner ${owner})`;

/**
 * ipvs makes one virtual service per address of a group's range: a /24 (or an IPv6 /120) is 256 of
 * them per port, and the next size up would be thousands.
 */
const MAX_HOST_BITS = 8;

const groupName = (service: string, f: Frontend) => `${service}-${f.protocol}-${f.port}`;

function checkerLines(model: PlaneModel, f: Frontend, b: PlaneBackend): string[] {
  const c = model.ipvs.check;
  const timing = [
    // TUN: the real server is the service port for ipvs, but the check talks to where it listens.
    ...(model.forwarding === 'tunnel' && b.port !== f.port ? [`connect_port ${b.port}`] : []),
    `connect_timeout ${c.timeoutSeconds}`,
    `retry ${c.retries}`,
    `delay_before_retry ${c.intervalSeconds}`,
  ];
  if (f.protocol === 'udp') return ['UDP_CHECK {', ...timing, '}'];
  if (c.type === 'http') {
    return ['HTTP_GET {', 'url {', `path ${c.path}`, 'status_code 200-299', '}', ...timing, '}'];
  }
  return ['TCP_CHECK {', ...timing, '}'];
}

function realServer(model: PlaneModel, f: Frontend, b: PlaneBackend, draining: boolean): string[] {
  // TUN rewrites nothing, the port neither: the real server gets the service port and maps it to
  // the one it listens on itself (`portlb backend-setup`).
  const port = model.forwarding === 'tunnel' ? f.port : b.port;
  return [
    ...(draining ? ['# draining: no new flows; established ones go on until the drain time is over'] : []),
    `real_server ${b.address} ${port} {`,
    `weight ${draining ? 0 : 1}`,
    // A failed check sets the weight to 0 instead of deleting the real server, which would drop
    // the established flows it carries.
    'inhibit_on_failure',
    ...checkerLines(model, f, b),
    '}',
  ];
}

function schedulerLines(model: PlaneModel): string[] {
  const { scheduler, hashPort, fallback } = model.ipvs;
  if (scheduler !== 'mh' && scheduler !== 'sh') return [`lvs_sched ${scheduler}`];
  return [
    `lvs_sched ${scheduler}`,
    ...(hashPort ? [`${scheduler}-port`] : []),
    ...(fallback ? [`${scheduler}-fallback`] : []),
  ];
}

function virtualServer(model: PlaneModel, service: PlaneService, f: Frontend): string[] {
  const name = groupName(service.name, f);
  return [
    `virtual_server_group ${name} {`,
    `${f.vip} ${f.port}`,
    '}',
    '',
    `virtual_server group ${name} {`,
    `delay_loop ${model.ipvs.check.intervalSeconds}`,
    // New real servers start as failed until their first check passes.
    'alpha',
    ...schedulerLines(model),
    // TUN: ipvs sends the packet in IPIP to the real server, the VIP still its destination; the
    // real server (portlb backend-setup) decapsulates and answers the client directly.
    model.forwarding === 'tunnel' ? 'lvs_method TUN type ipip' : 'lvs_method NAT',
    `protocol ${f.protocol.toUpperCase()}`,
    ...service.backends.flatMap((b) => realServer(model, f, b, false)),
    ...service.draining.flatMap((b) => realServer(model, f, b, true)),
    '}',
  ];
}

function indent(lines: readonly string[]): string[] {
  let depth = 0;
  return lines.map((line) => {
    if (line.startsWith('}')) depth--;
    const out = line === '' ? '' : `${'    '.repeat(depth)}${line}`;
    if (line.endsWith('{')) depth++;
    return out;
  });
}

function refuseWideVips(model: PlaneModel): void {
  const problems = model.services.flatMap((s, i) => {
    const p = prefix(s.vip);
    const bits = p.family === 4 ? 32 : 128;
    if (bits - p.length <= MAX_HOST_BITS) return [];
    const widest = `/${bits - MAX_HOST_BITS}`;
    const message = `${p.text} is wider than ipvs serves: use a ${widest} or narrower, or dataPlane.kind nftables`;
    return [{ path: `services[${i}].vip`, message }];
  });
  if (problems.length > 0) throw new ConfigError('ipvs cannot serve these VIP ranges', problems);
}

/**
 * keepalived.conf with one ipvs virtual server per service port (the paper's data plane): the VIP
 * range as a virtual server group, each backend a NAT (or, forwarding tunnel, TUN) real server
 * with keepalived's check. A
 * service whose every backend left gets no virtual server (keepalived refuses one without weight),
 * and draining backends stay with weight 0 while there is a ready one.
 */
export function renderKeepalived(model: PlaneModel): string {
  refuseWideVips(model);
  const served = model.services.filter((s) => s.backends.length > 0);
  const lines = [
    keepalivedMarker(model.owner),
    '# portlb rewrites this file and reloads keepalived (SIGHUP) when the backends change; edits are replaced.',
    'global_defs {',
    `router_id portlb-${model.owner}`,
    '}',
    ...served.flatMap((s) => s.frontends.flatMap((f) => ['', ...virtualServer(model, s, f)])),
  ];
  return `${indent(lines).join('\n')}\n`;
}
