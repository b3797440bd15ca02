import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { Candidate } from '../../core/model.js';

/*
 * How LB pods publish their candidacy where a Lambda can read it without the Kubernetes API: one
 * tag per LB pod on every managed route table, read back by the same DescribeRouteTables call that
 * reads the routes.
 *
 *   key    portlb.io/candidate/<owner>/<instance-id>/<pod>   at most 20 + 63 + 1 + 19 + 1 + 8 = 112 of 128 chars
 *   value  <eni-id> <ready|draining> <unix-ms> <node> <namespace/pod>   cut to fit 256 chars
 *
 * The key starts with the instance id because that is what EC2's state-change and spot events
 * name. It ends with a short hash of the pod, because a node may host several LB pods (the node
 * agent spreads a VIP over them): the node is a candidate while any of them is ready, and one pod
 * draining during a rolling update must not overwrite another's report. Space-separated because
 * spaces are allowed in tag values everywhere AWS checks tag characters (commas are not).
 *
 * The timestamp orders reports: an older report never overwrites a newer one, which makes
 * redelivered and reordered lifecycle events harmless, and a report older than `staleSeconds`
 * counts as unhealthy (a pod killed without a chance to say so). A pod that is `gone` removes its
 * tag. EC2 allows 50 tags per resource, so a table carries at most 50 minus its own tags
 * candidacies; `tagRoom` (providers/aws/tables.ts) says how many are left.
 */

export const CANDIDATE_TAG_PREFIX = 'portlb.io/candidate/';
const MAX_VALUE = 256;

/** `gone` is reported, never stored: it removes the pod's tag. */
export const candidateStates = ['ready', 'draining', 'gone'] as const;
export type CandidateState = (typeof candidateStates)[number];

export interface Candidacy {
  readonly instanceId: string;
  /** Short, stable id of the LB pod (`podId`): one report per pod. */
  readonly pod: string;
  readonly eni: string;
  readonly state: CandidateState;
  /** Unix milliseconds of the report (milliseconds, so one pod's quick succession of states keeps its order). */
  readonly at: number;
  readonly node: string;
  /** `namespace/name`, for people reading the tags. */
  readonly podName: string;
}

export const instanceIdSchema = z.string().regex(/^i-[0-9a-f]{8,17}$/, 'must be an EC2 instance id (i-...)');
export const eniIdSchema = z
  .string()
  .regex(/^eni-[0-9a-f]{8,17}$/, 'must be a network interface id (eni-...)');
const podIdSchema = z.string().regex(/^[0-9a-f]{8}$/, 'must be 8 hex digits');

const keySchema = z
  .string()
  .transform((text) => text.split('/'))
  .pipe(z.tuple([instanceIdSchema, podIdSchema]));

const valueSchema = z
  .string()
  .transform((text) => text.split(' '))
  .pipe(
    z.tuple(
      [eniIdSchema, z.enum(candidateStates), z.string().regex(/^\d{1,15}$/, 'must be unix milliseconds')],
      z.string(),
    ),
  );

/** The pod part of the key: 8 hex digits of SHA-256 over `namespace/name`, stable across restarts of the same pod. */
export function podId(podName: string): string {
  return createHash('sha256').update(podName).digest('hex').slice(0, 8);
}

export function candidateTagKey(owner: string, instanceId: string, pod: string): string {
  return `${CANDIDATE_TAG_PREFIX}${owner}/${instanceId}/${pod}`;
}

export function encodeCandidacy(candidacy: Candidacy): string {
  const clean = (text: string) => text.replaceAll(' ', '_');
  const text = `${candidacy.eni} ${candidacy.state} ${Math.floor(candidacy.at)} ${clean(candidacy.node) || '-'} ${clean(candidacy.podName) || '-'}`;
  return text.slice(0, MAX_VALUE);
}

export function candidateTag(owner: string, candidacy: Candidacy): { Key: string; Value: string } {
  return {
    Key: candidateTagKey(owner, candidacy.instanceId, candidacy.pod),
    Value: encodeCandidacy(candidacy),
  };
}

export interface DecodedCandidacies {
  readonly candidacies: Candidacy[];
  /** Tags under our prefix that do not parse: reported, never trusted. */
  readonly problems: { key: string; message: string }[];
}

/** Reads this owner's candidacies from one table's tags. */
export function decodeCandidacies(tags: Readonly<Record<string, string>>, owner: string): DecodedCandidacies {
  const prefix = `${CANDIDATE_TAG_PREFIX}${owner}/`;
  const candidacies: Candidacy[] = [];
  const problems: { key: string; message: string }[] = [];
  for (const [key, value] of Object.entries(tags)) {
    if (!key.startsWith(prefix)) continue;
    const ids = keySchema.safeParse(key.slice(prefix.length));
    const parsed = valueSchema.safeParse(value);
    if (!ids.success || !parsed.success) {
      const issue = (ids.error ?? parsed.error)?.issues[0];
      problems.push({
        key,
        message: issue ? `${issue.path.join('.') || 'key'}: ${issue.message}` : 'unreadable',
      });
      continue;
    }
    const [instanceId, pod] = ids.data;
    const [eni, state, at, node, podName] = parsed.data;
    candidacies.push({
      instanceId,
      pod,
      eni,
      state,
      at: Number(at),
      node: node ?? '',
      podName: podName ?? '',
    });
  }
  return { candidacies, problems };
}

/**
 * Whether `next` replaces `held`: a newer report does; at the same instant the later lifecycle state
 * does (ready, draining, gone); a replayed report changes nothing.
 */
export function supersedes(next: Candidacy, held: Candidacy | undefined): boolean {
  if (held === undefined || next.at > held.at) return true;
  if (next.at < held.at) return false;
  return candidateStates.indexOf(next.state) > candidateStates.indexOf(held.state);
}

export const sameReporter = (a: Candidacy, b: Candidacy) => a.instanceId === b.instanceId && a.pod === b.pod;

/** The newest report per pod across tables (a publisher writes all tables at once, but may fail half way). */
export function newestCandidacies(perTable: readonly (readonly Candidacy[])[]): Candidacy[] {
  const newest = new Map<string, Candidacy>();
  for (const list of perTable) {
    for (const c of list) {
      const id = `${c.instanceId}/${c.pod}`;
      if (supersedes(c, newest.get(id))) newest.set(id, c);
    }
  }
  return [...newest.values()].sort((a, b) =>
    a.instanceId === b.instanceId ? (a.pod < b.pod ? -1 : 1) : a.instanceId < b.instanceId ? -1 : 1,
  );
}

export interface HealthContext {
  /** Unix milliseconds now. */
  readonly now: number;
  readonly staleSeconds: number;
  /** Instances known to be going away, with why (an EC2 event, a DescribeInstances state). */
  readonly down?: ReadonlyMap<string, string>;
  /** Another view that can overrule a `ready` report (the Lease holder's Kubernetes informers), with why. */
  readonly veto?: ((candidacy: Candidacy) => string | undefined) | undefined;
}

function unhealthyReason(c: Candidacy, context: HealthContext): string | undefined {
  const who = c.podName || c.node || c.instanceId;
  const down = context.down?.get(c.instanceId);
  if (down !== undefined) return down;
  if (c.state !== 'ready') return `LB ${who} is ${c.state}`;
  const vetoed = context.veto?.(c);
  if (vetoed !== undefined) return vetoed;
  const age = (context.now - c.at) / 1000;
  if (age > context.staleSeconds) {
    return `candidacy of ${who} is ${Math.round(age)} s old (stale after ${context.staleSeconds} s)`;
  }
  return undefined;
}

/**
 * The planner's candidates, one per ENI: healthy while any LB pod behind it reports `ready`, fresh,
 * on an instance not known to be going away; otherwise unhealthy with every pod's reason.
 */
export function toCandidates(candidacies: readonly Candidacy[], context: HealthContext): Candidate[] {
  const byEni = new Map<string, string[]>();
  const healthy = new Set<string>();
  for (const c of candidacies) {
    const reason = unhealthyReason(c, context);
    if (reason === undefined) healthy.add(c.eni);
    else byEni.set(c.eni, [...(byEni.get(c.eni) ?? []), reason]);
    if (!byEni.has(c.eni)) byEni.set(c.eni, []);
  }
  return [...byEni.entries()].map(([eni, reasons]) =>
    healthy.has(eni)
      ? { target: eni, rank: eni, healthy: true }
      : { target: eni, rank: eni, healthy: false, reason: reasons.join('; ') },
  );
}
