import { z } from 'zod';
import { parseAddress, parsePrefix, unmappedIpv4 } from '../core/cidr.js';
import { hostAddressUse } from './special.js';

/*
 * Field schemas shared by every input portlb validates (the config file, the functions'
 * environment, annotations): one definition per kind of value, with its bounds and its message.
 */

/**
 * The last verdicts on one kind of value: the same backend stands under thousands of services, the
 * same range may be listed many times. Bounded, so that a long-running sidecar keeps next to none.
 */
function remembered(
  verdicts: Map<string, string | undefined>,
  value: string,
  judge: (value: string) => string | undefined,
): string | undefined {
  if (verdicts.has(value)) return verdicts.get(value);
  const problem = judge(value);
  if (verdicts.size >= 1024) verdicts.clear();
  verdicts.set(value, problem);
  return problem;
}

const cidrVerdicts = new Map<string, string | undefined>();
const addressVerdicts = new Map<string, string | undefined>();

function cidrProblem(value: string): string | undefined {
  const result = parsePrefix(value);
  if (!result.ok) return result.reason;
  const canonical = result.prefix.text;
  if (canonical !== value && unmappedIpv4(result.prefix) === undefined) {
    return `"${value}" is not in canonical form; did you mean ${canonical}?`;
  }
  return undefined;
}

/**
 * A CIDR written in its canonical form, IPv4 or IPv6 (RFC 5952: lowercase, zeros compressed):
 * `10.1.1.5/24` and `2001:DB8:0::/64` are refused with the form they probably meant. An
 * IPv4-mapped range passes here; the special-purpose rule (rules.ts) says what it stands for.
 */
export const cidr = z.string().superRefine((value, ctx) => {
  const problem = remembered(cidrVerdicts, value, cidrProblem);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
});

function addressProblem(value: string): string | undefined {
  const parsed = parseAddress(value);
  if (!parsed.ok) return 'not an IPv4 or IPv6 address';
  const use = hostAddressUse(parsed.host);
  return use.ok ? undefined : `${value} ${use.reason}`;
}

/**
 * One host's address: a peer, a next hop, a backend. Not 0.0.0.0 or ::, multicast, broadcast, the
 * metadata server, nor an IPv4 address in IPv6 clothing.
 */
export const address = z.string().superRefine((value, ctx) => {
  const problem = remembered(addressVerdicts, value, addressProblem);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
});

export const port = z.number().int().min(1).max(65535);

/** 2^31-1 ms: Node fires a longer setTimeout at once (with a warning), so no timer may be longer. */
export const MAX_TIMER_SECONDS = 2_147_483;

/**
 * A duration in seconds, fractions allowed. `min` keeps a timer from spinning (a probe every
 * nanosecond); `max` is what still makes sense for the field, never more than a timer can hold.
 */
export function seconds(bounds: { min?: number; max?: number } = {}) {
  const max = Math.min(bounds.max ?? MAX_TIMER_SECONDS, MAX_TIMER_SECONDS);
  const text = max === MAX_TIMER_SECONDS ? `${max} s (about 24 days)` : `${max} s`;
  const base = z.number().max(max, `must be at most ${text}`);
  return bounds.min === undefined
    ? base.positive()
    : base.min(bounds.min, `must be at least ${bounds.min} s`);
}

/** pino's levels, as `log.level` and the functions' PORTLB_LOG_LEVEL name them. */
export const logLevel = z.enum(['trace', 'debug', 'info', 'warn', 'error']);

/** A DNS label (RFC 1123): Kubernetes names, portlb's owner id. */
export const name = z
  .string()
  .max(63)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a DNS label: lowercase letters, digits and "-"');

/** A DNS subdomain (RFC 1123): a Kubernetes node name. */
export const subdomain = z
  .string()
  .max(253)
  .regex(
    /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/,
    'must be a DNS subdomain: lowercase letters, digits, "-" and "."',
  );

/** An AWS region (`us-east-1`, `us-gov-west-1`, `eu-central-2`), not an availability zone. */
export const awsRegion = z
  .string()
  .regex(/^[a-z]{2,4}(-[a-z]+){1,3}-\d{1,2}$/, 'must be an AWS region such as us-east-1 (not a zone)');

/** An EC2 route table id: `rtb-` and 8 or 17 hex digits. */
export const routeTableId = z
  .string()
  .regex(/^rtb-([0-9a-f]{8}|[0-9a-f]{17})$/, 'must be a route table id (rtb- and 8 or 17 hex digits)');

/** An EC2 network interface id (`eni-` and 8 or 17 hex digits): a route's target in mode aws. */
export const networkInterfaceId = z
  .string()
  .regex(/^eni-([0-9a-f]{8}|[0-9a-f]{17})$/, 'must be a network interface id (eni- and 8 or 17 hex digits)');

/**
 * A GCE instance (`projects/P/zones/Z/instances/NAME`, or its full Compute URL): a route's target
 * in mode gcp.
 */
export const instanceUrl = z
  .string()
  .regex(
    /^(https:\/\/www\.googleapis\.com\/compute\/v1\/)?projects\/[^/\s]{1,100}\/zones\/[a-z0-9-]{1,63}\/instances\/[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/,
    'must be an instance URL (projects/P/zones/Z/instances/NAME)',
  );

/** An API endpoint override: an http(s) URL with a host. */
export const endpointUrl = z.url({
  protocol: /^https?$/,
  // As URL reports it: lowercase, IPv6 in brackets.
  hostname: /^(\[[0-9a-f:.]+\]|[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*)$/,
  error: 'must be an http:// or https:// URL with a host',
});

/** A GCP project id: 6-30 of lowercase letters, digits and "-", starting with a letter; `domain:` allowed. */
export const gcpProjectId = z
  .string()
  .regex(
    /^([a-z0-9][-a-z0-9.]*[a-z0-9]:)?[a-z][-a-z0-9]{4,28}[a-z0-9]$/,
    'must be a GCP project id: 6-30 lowercase letters, digits and "-", starting with a letter',
  );

/** A GCP resource name (RFC 1035): a network, a route name. */
export const gcpName = z
  .string()
  .regex(/^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/, 'must be a GCP name: [a-z]([-a-z0-9]{0,61}[a-z0-9])?');

/** A path to a file portlb reads (a secret, a kubeconfig); load.ts checks it exists when loading. */
export const filePath = z
  .string()
  .min(1)
  .max(4096)
  .refine((p) => !p.includes('\0'), 'must not contain a NUL character');

/** `HOST:PORT` to listen on: an IPv4 address, `[IPv6]`, a host name or `$(VAR)`; port 0-65535 (0: any). */
export const listen = z.string().superRefine((value, ctx) => {
  const match = /^(\[([0-9a-fA-F:.]+)\]|([^:\s[\]]+)):(\d{1,5})$/.exec(value);
  const portNumber = Number(match?.[4]);
  if (match === null || portNumber > 65535) {
    ctx.addIssue({ code: 'custom', message: 'must be HOST:PORT with a port of 0-65535 ([::] for IPv6)' });
    return;
  }
  const [, , bracketed, host] = match;
  if (bracketed !== undefined && parseAddress(bracketed).ok !== true) {
    ctx.addIssue({ code: 'custom', message: `"${bracketed}" is not an IPv6 address` });
  } else if (host !== undefined && /^[\d.]+$/.test(host) && !parseAddress(host).ok) {
    ctx.addIssue({ code: 'custom', message: `"${host}" is not an IPv4 address` });
  }
});

const LABEL_NAME = '([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)';
const LABEL_KEY = `([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?${LABEL_NAME}`;
const LABEL_VALUE = `(${LABEL_NAME})?`;
const REQUIREMENT = new RegExp(
  `^\\s*(!\\s*${LABEL_KEY}|${LABEL_KEY}(\\s*(=|==|!=)\\s*${LABEL_VALUE}|\\s+(in|notin)\\s*\\(\\s*${LABEL_VALUE}(\\s*,\\s*${LABEL_VALUE})*\\s*\\))?)\\s*$`,
);

/** A Kubernetes label selector (`app=lb,tier in (a, b),!canary`), as the API server parses it. */
export const labelSelector = z
  .string()
  .min(1)
  .refine(
    (selector) => splitSelector(selector).every((r) => REQUIREMENT.test(r)),
    'must be a label selector: key=value, key!=value, key in (a,b), key notin (a,b), key or !key, comma-separated',
  );

/** Splits at the commas between requirements, not those inside `in (...)`. */
function splitSelector(selector: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < selector.length; i++) {
    if (selector[i] === '(') depth++;
    else if (selector[i] === ')') depth--;
    else if (selector[i] === ',' && depth === 0) {
      parts.push(selector.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(selector.slice(start));
  return parts;
}

/** A Kubernetes port name (IANA service name syntax): what a Service port is called. */
export const portName = z
  .string()
  .max(15)
  .regex(
    /^(?=.*[a-z])[a-z0-9]([-a-z0-9]*[a-z0-9])?$/,
    'must be a port name: lowercase letters, digits and "-"',
  );

/** EC2 tag limits: keys 1-128 characters and not `aws:` (reserved), values at most 256. */
export function awsTagKeys(tags: Record<string, string>, ctx: z.RefinementCtx): void {
  for (const key of Object.keys(tags)) {
    const problem =
      key.length < 1 || key.length > 128
        ? 'tag keys are 1-128 characters'
        : key.toLowerCase().startsWith('aws:')
          ? 'tag keys starting with "aws:" are reserved by AWS'
          : undefined;
    if (problem !== undefined) ctx.addIssue({ code: 'custom', path: [key], message: problem });
  }
}

/** An EventBridge bus: its name or its ARN. */
export const eventBus = z
  .string()
  .regex(
    /^([A-Za-z0-9._-]{1,256}|arn:aws[a-z-]*:events:[a-z0-9-]+:\d{12}:event-bus\/[A-Za-z0-9._-]{1,256})$/,
    'must be an event bus name ([A-Za-z0-9._-]) or its ARN',
  );
