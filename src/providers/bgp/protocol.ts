import { z } from 'zod';
import { parseAddress } from '../../core/cidr.js';

/*
 * exabgp 4.2's process API, as Debian ships it: we write one text command per line on its stdin;
 * it writes JSON events (encoder json) and, with exabgp.api.ack, a bare `done` or `error` line per
 * command, in command order. Only the messages portlb acts on are parsed; the rest are ignored.
 */

export interface Route {
  readonly vip: string;
  readonly nextHop: string;
}

export const routeKey = (route: Route): string => `${route.vip} ${route.nextHop}`;

/** `neighbor ADDR` scopes a command to one session; without it exabgp sends to every neighbor. */
export function announceCommand(
  route: Route,
  neighbor?: string,
  communities: readonly string[] = [],
): string {
  const scope = neighbor ? `neighbor ${neighbor} ` : '';
  const tags = communities.length > 0 ? ` community [ ${communities.join(' ')} ]` : '';
  return `${scope}announce route ${route.vip} next-hop ${route.nextHop}${tags}`;
}

export function withdrawCommand(route: Route): string {
  return `withdraw route ${route.vip} next-hop ${route.nextHop}`;
}

export type PeerState = 'up' | 'down' | 'connected';

export type ApiEvent =
  | { readonly kind: 'ack'; readonly ok: boolean }
  | { readonly kind: 'peer'; readonly peer: string; readonly state: PeerState; readonly reason?: string }
  /** exabgp is going away: every session is about to drop. */
  | { readonly kind: 'shutdown' }
  | { readonly kind: 'ignored'; readonly type: string }
  | { readonly kind: 'malformed'; readonly reason: string; readonly line: string };

/** A session's peer as exabgp reports it: an IP address, in canonical form (as the config compares them). */
const peerAddress = z.string().transform((value, ctx) => {
  const parsed = parseAddress(value);
  if (!parsed.ok) {
    ctx.addIssue({ code: 'custom', message: `"${value.slice(0, 64)}" is not an IP address` });
    return z.NEVER;
  }
  return parsed.text;
});

/** exabgp's own words for why a session went down; long ones are cut, never refused. */
const REASON = 512;

const stateMessage = z.object({
  type: z.literal('state'),
  neighbor: z.object({
    address: z.object({ peer: peerAddress }),
    state: z.enum(['up', 'down', 'connected'], { error: 'must be up, down or connected' }),
    reason: z
      .string()
      .transform((r) => r.slice(0, REASON))
      .optional(),
  }),
});

const notificationMessage = z.object({ type: z.literal('notification'), notification: z.string() });

const anyMessage = z.object({ type: z.string().max(64).optional() });

/** Longest excerpt of a bad line kept for the log: exabgp lines can carry whole UPDATE dumps. */
const EXCERPT = 200;

/**
 * Longest line parsed: with only `neighbor-changes` on, exabgp sends short state messages; a line
 * this long is not one, and is not handed to JSON.parse.
 */
export const MAX_LINE = 64 * 1024;

const malformed = (reason: string, line: string): ApiEvent => ({
  kind: 'malformed',
  reason,
  line: line.slice(0, EXCERPT),
});

/**
 * One line from exabgp as the event it carries. Never throws: a line that is not one of exabgp's
 * comes back `malformed` with the reason (naming the field), for the speaker to count and skip.
 */
export function parseApiLine(raw: string): ApiEvent | undefined {
  if (raw.length > MAX_LINE)
    return malformed(`a line of ${raw.length} characters (at most ${MAX_LINE})`, raw);
  const line = raw.trim();
  if (line === '') return undefined;
  if (line === 'done') return { kind: 'ack', ok: true };
  if (line === 'error') return { kind: 'ack', ok: false };
  if (line === 'shutdown') return { kind: 'shutdown' };
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch (error) {
    return malformed(`not JSON: ${(error as Error).message}`, line);
  }
  const other = anyMessage.safeParse(json);
  if (!other.success) {
    const field = other.error.issues[0]?.path.length ? 'its type is not a short string' : 'not a JSON object';
    return malformed(field, line);
  }
  if (other.data.type === 'state') {
    const state = stateMessage.safeParse(json);
    if (!state.success) {
      const issue = state.error.issues[0];
      const path = issue?.path.join('.') ?? 'neighbor';
      return malformed(`state message: ${path}: ${issue?.message ?? 'invalid'}`, line);
    }
    const { neighbor } = state.data;
    return {
      kind: 'peer',
      peer: neighbor.address.peer,
      state: neighbor.state,
      ...(neighbor.reason !== undefined && { reason: neighbor.reason }),
    };
  }
  const notification = notificationMessage.safeParse(json);
  if (notification.success && notification.data.notification === 'shutdown') return { kind: 'shutdown' };
  return { kind: 'ignored', type: other.data.type ?? 'untyped' };
}
