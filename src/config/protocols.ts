import { z } from 'zod';
import { parseAddress } from '../core/cidr.js';

/*
 * Field schemas for routing protocol values: BGP's (RFC 4271, 6286, 6793, 7300, 1997) and the
 * kernel's route protocol numbers.
 */

/**
 * A 2- or 4-octet AS number (RFC 6793), not one reserved: 0 (RFC 7607), AS_TRANS 23456 (RFC 6793),
 * the last of each range, 65535 and 4294967295 (RFC 7300).
 */
export const asn = z
  .number()
  .int()
  .min(1)
  .max(4294967295)
  .refine(
    (as) => as !== 23456 && as !== 65535 && as !== 4294967295,
    'is a reserved AS number (RFC 6793, RFC 7300)',
  );

/** A BGP identifier (router id, cluster id): 32 bits written as a dotted quad, not 0.0.0.0 (RFC 6286). */
export const bgpIdentifier = z.string().superRefine((value, ctx) => {
  const parsed = parseAddress(value);
  if (!parsed.ok || parsed.host.family !== 4 || parsed.text !== value) {
    ctx.addIssue({
      code: 'custom',
      message: 'must be a 32-bit BGP identifier written as a dotted quad (a.b.c.d)',
    });
  } else if (parsed.host.network === 0n) {
    ctx.addIssue({ code: 'custom', message: 'must not be 0.0.0.0 (RFC 6286)' });
  }
});

/** BGP hold time (RFC 4271 4.2): whole seconds, 0 (no keepalives: never expires) or 3-65535. */
export const holdTime = z
  .number()
  .int('must be whole seconds (RFC 4271)')
  .max(65535, 'must be at most 65535 s (RFC 4271)')
  .refine((t) => t === 0 || t >= 3, 'must be 0 or at least 3 s (RFC 4271)');

/** A standard community (RFC 1997): two 16-bit halves. */
export const community = z.string().superRefine((c, ctx) => {
  if (!/^\d{1,5}:\d{1,5}$/.test(c))
    ctx.addIssue({ code: 'custom', message: 'must be ASN:VALUE, e.g. 65000:100' });
  else if (c.split(':').some((half) => Number(half) > 65535))
    ctx.addIssue({ code: 'custom', message: 'each half must be 0-65535 (RFC 1997)' });
});

/** Protocol numbers routing daemons mark their routes with (iproute2 rt_protos, FRR's rt_protos.d). */
const ROUTING_DAEMON_PROTOCOLS: Readonly<Record<number, string>> = {
  8: 'gated',
  9: 'ra',
  10: 'mrt',
  11: 'zebra',
  12: 'bird',
  13: 'dnrouted',
  14: 'xorp',
  15: 'ntk',
  16: 'dhcp',
  18: 'keepalived',
  42: 'babel',
  99: 'openr',
  186: 'FRR bgp',
  187: 'FRR isis',
  188: 'FRR ospf',
  189: 'FRR rip',
  190: 'FRR ripng',
  191: 'FRR nhrp',
  192: 'FRR eigrp',
  193: 'FRR ldp',
  194: 'FRR sharp',
  195: 'FRR pbr',
  196: 'FRR static',
  197: 'FRR openfabric',
};

/**
 * Routing protocol number the node agent marks its routes with (`ip route ... proto N`). 202 is
 * unassigned in iproute2's rt_protos and FRR's (186-197).
 */
export const DEFAULT_ROUTE_PROTOCOL = 202;

/**
 * The routing protocol number the node agent marks its routes with (`ip route ... proto N`): not
 * 0-4 (the kernel's, boot, static), nor a number a routing daemon marks its own routes with, or
 * the agent would take them over.
 */
export const routeProtocol = z
  .number()
  .int()
  .min(5, 'must be 5-255: 0-4 are unspec, redirect, kernel, boot and static')
  .max(255)
  .refine((n) => !(n in ROUTING_DAEMON_PROTOCOLS), {
    error: (issue) =>
      `${String(issue.input)} is ${ROUTING_DAEMON_PROTOCOLS[Number(issue.input)]}'s (iproute2 rt_protos): the agent would take over that daemon's routes; pick an unassigned number such as ${DEFAULT_ROUTE_PROTOCOL}`,
  });
