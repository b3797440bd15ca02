import { z } from 'zod';

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

const stateMessage = z.object({
  type: z.literal('state'),
  neighbor: z.object({
    address: z.object({ peer: z.string().min(1) }),
    state: z.enum(['up', 'down', 'connected']),
    reason: z.string().optional(),
  }),
});

const notificationMessage = z.object({ type: z.literal('notification'), notification: z.string() });

const anyMessage = z.object({ type: z.string().optional() });

/** Longest excerpt of a bad line kept for the log: exabgp lines can carry whole UPDATE dumps. */
const EXCERPT = 200;

export function parseApiLine(raw: string): ApiEvent | undefined {
  const line = raw.trim();
  if (line === '') return undefined;
  if (line === 'done') return { kind: 'ack', ok: true };
  if (line === 'error') return { kind: 'ack', ok: false };
  if (line === 'shutdown') return { kind: 'shutdown' };
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch (error) {
    return {
      kind: 'malformed',
      reason: `not JSON: ${(error as Error).message}`,
      line: line.slice(0, EXCERPT),
    };
  }
  const state = stateMessage.safeParse(json);
  if (state.success) {
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
  const other = anyMessage.safeParse(json);
  if (!other.success) return { kind: 'malformed', reason: 'not a JSON object', line: line.slice(0, EXCERPT) };
  if (other.data.type === 'state') {
    return {
      kind: 'malformed',
      reason: 'state message without neighbor address/state',
      line: line.slice(0, EXCERPT),
    };
  }
  return { kind: 'ignored', type: other.data.type ?? 'untyped' };
}
