import { z } from 'zod';
import type { Candidate } from '../../core/model.js';

/*
 * How LB pods publish their candidacy where a Lambda can read it without the Kubernetes API: one
 * tag per LB node on every managed route table, read back by the same DescribeRouteTables call that
 * reads the routes.
 *
 *   key    portlb.io/candidate/<owner>/<instance-id>       at most 20 + 63 + 1 + 19 = 103 of 128 chars
 *   value  <eni-id> <ready|draining|gone> <unix-ms> <node name, cut to fit 256 chars>
 *
 * Keyed by instance id because that is what EC2's state-change and spot events name: the
 * function finds a dying node's candidacy without a lookup. Space-separated because spaces are
 * allowed in tag values everywhere AWS checks tag characters (commas are not). The timestamp
 * orders writes: an older report never overwrites a newer one, which makes redelivered and
 * reordered lifecycle events harmless, and a report older than `staleSeconds` counts as unhealthy
 * (a pod killed without a chance to say so). EC2 allows 50 tags per resource, so a table carries
 * at most 50 minus its own tags candidates; `tagRoom` says how many are left.
 */

export const CANDIDATE_TAG_PREFIX = 'portlb.io/candidate/';
export const MAX_TAGS_PER_RESOURCE = 50;
const MAX_VALUE = 256;

export const candidateStates = ['ready', 'draining', 'gone'] as const;
export type CandidateState = (typeof candidateStates)[number];

export interface Candidacy {
  readonly instanceId: string;
  readonly eni: string;
  readonly state: CandidateState;
  /** Unix milliseconds of the report (milliseconds, so one pod's quick succession of states keeps its order). */
  readonly at: number;
  readonly node: string;
}

export const instanceIdSchema = z.string().regex(/^i-[0-9a-f]{8,17}$/, 'must be an EC2 instance id (i-...)');
export const eniIdSchema = z
  .string()
  .regex(/^eni-[0-9a-f]{8,17}$/, 'must be a network interface id (eni-...)');

const valueSchema = z
  .string()
  .transform((text) => text.split(' '))
  .pipe(
    z.tuple(
      [eniIdSchema, z.enum(candidateStates), z.string().regex(/^\d{1,15}$/, 'must be unix milliseconds')],
      z.string(),
    ),
  );

export function candidateTagKey(owner: string, instanceId: string): string {
  return `${CANDIDATE_TAG_PREFIX}${owner}/${instanceId}`;
}

export function encodeCandidacy(candidacy: Candidacy): string {
  const head = `${candidacy.eni} ${candidacy.state} ${Math.floor(candidacy.at)}`;
  const node = candidacy.node.replaceAll(' ', '_').slice(0, MAX_VALUE - head.length - 1);
  return node ? `${head} ${node}` : head;
}

export function candidateTag(owner: string, candidacy: Candidacy): { Key: string; Value: string } {
  return { Key: candidateTagKey(owner, candidacy.instanceId), Value: encodeCandidacy(candidacy) };
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
    const instance = instanceIdSchema.safeParse(key.slice(prefix.length));
    const parsed = valueSchema.safeParse(value);
    if (!instance.success || !parsed.success) {
      const issue = (instance.error ?? parsed.error)?.issues[0];
      problems.push({
        key,
        message: issue ? `${issue.path.join('.') || 'key'}: ${issue.message}` : 'unreadable',
      });
      continue;
    }
    const [eni, state, at, ...node] = parsed.data;
    candidacies.push({ instanceId: instance.data, eni, state, at: Number(at), node: node.join(' ') });
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

/** The newest report per instance across tables (a publisher writes all tables at once, but may fail half way). */
export function newestCandidacies(perTable: readonly (readonly Candidacy[])[]): Candidacy[] {
  const newest = new Map<string, Candidacy>();
  for (const list of perTable) {
    for (const c of list) {
      const seen = newest.get(c.instanceId);
      if (supersedes(c, seen)) newest.set(c.instanceId, c);
    }
  }
  return [...newest.values()].sort((a, b) => (a.instanceId < b.instanceId ? -1 : 1));
}

export interface HealthContext {
  /** Unix milliseconds now. */
  readonly now: number;
  readonly staleSeconds: number;
  /** Instances known to be going away, with why (an EC2 event, a DescribeInstances state). */
  readonly down?: ReadonlyMap<string, string>;
}

/** The planner's candidates: healthy only when ready, fresh, and not known to be going away. */
export function toCandidates(candidacies: readonly Candidacy[], context: HealthContext): Candidate[] {
  return candidacies.map((c) => {
    const down = context.down?.get(c.instanceId);
    const age = (context.now - c.at) / 1000;
    const reason =
      down ??
      (c.state !== 'ready'
        ? `LB on ${c.node || c.instanceId} is ${c.state}`
        : age > context.staleSeconds
          ? `candidacy of ${c.node || c.instanceId} is ${Math.round(age)} s old (stale after ${context.staleSeconds} s)`
          : undefined);
    return reason === undefined
      ? { target: c.eni, rank: c.eni, healthy: true }
      : { target: c.eni, rank: c.eni, healthy: false, reason };
  });
}

/** How many more candidate tags a table can take. */
export function tagRoom(tags: Readonly<Record<string, string>>): number {
  return MAX_TAGS_PER_RESOURCE - Object.keys(tags).length;
}
