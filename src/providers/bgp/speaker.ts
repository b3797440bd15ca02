import { TransientError } from '../../errors.js';
import type { Logger } from '../../runtime/logger.js';
import type { BgpMetrics } from './metrics.js';
import {
  announceCommand,
  type PeerState,
  parseApiLine,
  type Route,
  routeKey,
  withdrawCommand,
} from './protocol.js';

/** One line out to the connected exabgp (through the relay). */
export interface ApiWriter {
  write(line: string): void;
}

/** Why a command was sent: `cause` is a bounded metric label, `reason` the sentence for the log. */
export interface Why {
  readonly cause: string;
  readonly reason: string;
}

export interface PeerStatus {
  readonly state: PeerState;
  readonly since: string;
  readonly reason?: string | undefined;
}

interface Pending {
  readonly command: string;
  readonly route: Route;
  readonly action: 'announce' | 'withdraw';
  settle(error?: Error): void;
}

export interface SpeakerDeps {
  readonly peers: readonly string[];
  readonly logger: Logger;
  readonly metrics: BgpMetrics;
  readonly ackTimeoutMs: number;
  /** `bgp.communities`, attached to every announcement. */
  readonly communities?: readonly string[];
  /** exabgp left a command unanswered past the timeout: it is hung, and should be restarted. */
  readonly onStuck?: (command: string) => void;
  /** Something changed that a reconcile should look at (exabgp came or went, a session changed). */
  readonly onChange?: (why: string) => void;
  readonly now?: () => Date;
}

/**
 * The announcer's state against one exabgp at a time. Like MetalLB's session, it keeps the whole
 * desired set (`wanted`) and makes exabgp match it: after exabgp (re)connects the full set goes
 * out again, and so it does to a session that comes back up. `sent` is what the current exabgp
 * was told to announce and has not refused, `acked` what it confirmed (status and metrics).
 * `wanted` lives on while exabgp is away, and `observed()` then reports it, so that runs in the
 * meantime drop what is no longer desired and the next exabgp is told only the current set.
 */
export function createSpeaker(deps: SpeakerDeps) {
  const log = deps.logger.child({ component: 'bgp' });
  const { metrics } = deps;
  const now = deps.now ?? (() => new Date());
  const wanted = new Map<string, Route>();
  const sent = new Map<string, Route>();
  const acked = new Map<string, Route>();
  const queue: Pending[] = [];
  const peers = new Map<string, PeerStatus>();
  let writer: ApiWriter | undefined;

  const setPeer = (peer: string, state: PeerState, reason?: string) => {
    peers.set(peer, { state, since: now().toISOString(), ...(reason !== undefined && { reason }) });
    metrics.sessionUp.set({ peer }, state === 'up' ? 1 : 0);
  };
  for (const peer of deps.peers) setPeer(peer, 'down', 'exabgp not connected yet');
  metrics.exabgpUp.set(0);

  const setAcked = (route: Route, on: boolean) => {
    const key = routeKey(route);
    if (on) acked.set(key, route);
    else acked.delete(key);
    const labels = { vip: route.vip, next_hop: route.nextHop };
    if (on) metrics.announced.set(labels, 1);
    else metrics.announced.remove(labels);
  };

  function send(action: 'announce' | 'withdraw', route: Route, why: Why, neighbor?: string): Promise<void> {
    const out = writer;
    if (out === undefined) return Promise.reject(new TransientError('exabgp is not connected'));
    const command =
      action === 'announce' ? announceCommand(route, neighbor, deps.communities) : withdrawCommand(route);
    metrics.decisions.inc({ action, cause: why.cause });
    log.info(
      {
        event: action,
        vip: route.vip,
        nextHop: route.nextHop,
        neighbor,
        cause: why.cause,
        reason: why.reason,
      },
      command,
    );
    return new Promise<void>((resolve, reject) => {
      // On timeout the entry stays queued, so that a late ack still lines up with its command.
      const timer = setTimeout(() => {
        entry.settle = () => {};
        metrics.apiErrors.inc({ kind: 'ack_timeout' });
        if (writer === out) deps.onStuck?.(command);
        reject(new TransientError(`exabgp did not acknowledge "${command}" within ${deps.ackTimeoutMs} ms`));
      }, deps.ackTimeoutMs);
      const entry: Pending = {
        command,
        route,
        action,
        settle: (error) => {
          clearTimeout(timer);
          if (error) reject(error);
          else resolve();
        },
      };
      queue.push(entry);
      out.write(`${command}\n`);
    });
  }

  function onAck(ok: boolean): void {
    const entry = queue.shift();
    if (entry === undefined) {
      metrics.apiErrors.inc({ kind: 'stray_ack' });
      log.warn({ event: 'stray_ack', ok }, 'exabgp acknowledged a command portlb did not send');
      return;
    }
    const key = routeKey(entry.route);
    if (entry.action === 'announce') {
      if (ok) setAcked(entry.route, true);
      else sent.delete(key); // not announced: the next sync tries again
    } else {
      // A refused withdraw means exabgp does not hold the route: withdrawn either way.
      setAcked(entry.route, false);
    }
    if (ok) {
      entry.settle();
      return;
    }
    metrics.apiErrors.inc({ kind: 'error_ack' });
    log.warn({ event: 'error_ack', command: entry.command }, 'exabgp answered error');
    entry.settle(new TransientError(`exabgp answered error to "${entry.command}"`));
  }

  /** Makes the current exabgp match `wanted`; one result per route key that needed a command. */
  async function sync(
    why: (key: string, action: 'announce' | 'withdraw') => Why,
  ): Promise<Map<string, unknown>> {
    const jobs: [string, Promise<void>][] = [];
    for (const [key, route] of sent) {
      if (wanted.has(key)) continue;
      sent.delete(key);
      jobs.push([key, send('withdraw', route, why(key, 'withdraw'))]);
    }
    for (const [key, route] of wanted) {
      if (sent.has(key)) continue;
      if (writer !== undefined) sent.set(key, route);
      jobs.push([key, send('announce', route, why(key, 'announce'))]);
    }
    const results = await Promise.allSettled(jobs.map(([, job]) => job));
    const errors = new Map<string, unknown>();
    results.forEach((result, i) => {
      if (result.status === 'rejected') errors.set(jobs[i]![0], result.reason);
    });
    return errors;
  }

  function forgetExabgp(reason: string): void {
    const failed = queue.splice(0);
    for (const entry of failed)
      entry.settle(new TransientError(`exabgp went away before answering: ${reason}`));
    sent.clear();
    for (const route of [...acked.values()]) setAcked(route, false);
    for (const peer of peers.keys()) setPeer(peer, 'down', reason);
  }

  const resend = (cause: string, reason: string) => () => ({ cause, reason });

  return {
    /** A new exabgp instance is on the line: it knows nothing, so it gets the whole set. */
    attach(next: ApiWriter): void {
      if (writer !== undefined) forgetExabgp('replaced by a new exabgp instance');
      writer = next;
      metrics.exabgpUp.set(1);
      log.info({ event: 'exabgp_connected', routes: wanted.size }, 'exabgp connected; sending the full set');
      void sync(resend('exabgp_start', 'exabgp (re)started: it gets the whole desired set')).then(
        (errors) => {
          if (errors.size > 0) deps.onChange?.('exabgp resend failed');
        },
      );
      deps.onChange?.('exabgp connected');
    },
    detach(writerGone: ApiWriter, reason: string): void {
      if (writer !== writerGone) return; // an older instance closing after its replacement arrived
      writer = undefined;
      metrics.exabgpUp.set(0);
      forgetExabgp(reason);
      log.warn({ event: 'exabgp_disconnected', reason }, 'exabgp disconnected');
      deps.onChange?.('exabgp disconnected');
    },
    /** One line from exabgp. Never throws: a bad line is logged, counted and skipped. */
    receive(line: string): void {
      const event = parseApiLine(line);
      if (event === undefined) return;
      switch (event.kind) {
        case 'ack':
          onAck(event.ok);
          return;
        case 'malformed':
          metrics.apiErrors.inc({ kind: 'malformed' });
          log.warn(
            { event: 'malformed', reason: event.reason, line: event.line },
            'skipped a malformed line from exabgp',
          );
          return;
        case 'ignored':
          log.debug({ event: 'ignored', type: event.type }, 'exabgp message ignored');
          return;
        case 'shutdown':
          log.warn({ event: 'exabgp_shutdown' }, 'exabgp is shutting down');
          for (const peer of peers.keys()) setPeer(peer, 'down', 'exabgp shutting down');
          deps.onChange?.('exabgp shutting down');
          return;
        case 'peer': {
          const before = peers.get(event.peer)?.state;
          setPeer(event.peer, event.state, event.reason);
          metrics.sessionChanges.inc({ peer: event.peer, state: event.state });
          log.info(
            { event: 'session', peer: event.peer, state: event.state, reason: event.reason },
            `session ${event.state}`,
          );
          if (event.state === 'up' && before !== 'up') {
            // MetalLB's rule: a session that comes back gets the whole set, never a delta.
            for (const route of wanted.values()) {
              send(
                'announce',
                route,
                { cause: 'session_up', reason: `session to ${event.peer} came up` },
                event.peer,
              ).catch(() => deps.onChange?.('resend after session up failed'));
            }
          }
          deps.onChange?.(`session ${event.peer} ${event.state}`);
          return;
        }
      }
    },
    /**
     * The whole desired set at once (MetalLB's `Set`), e.g. the empty set on shutdown; `why` says
     * per route key why it is announced or withdrawn.
     */
    async set(routes: readonly Route[], why: Why | ((key: string, action: 'announce' | 'withdraw') => Why)) {
      wanted.clear();
      for (const route of routes) wanted.set(routeKey(route), route);
      return sync(typeof why === 'function' ? why : () => why);
    },
    /** What the current exabgp confirmed. */
    announced(): Route[] {
      return [...acked.values()];
    },
    /**
     * What the planner diffs against. With exabgp connected: what it was told to announce (an
     * announce still in flight counts, so a run can withdraw it; a refused one does not, so a run
     * retries it). Without: the set the next exabgp will be sent, so that a run drops an unhealthy
     * VIP from it rather than leave it to be re-announced on reconnect. Dropping a route no exabgp
     * holds needs no command, and so cannot fail.
     */
    observed(): Route[] {
      return [...(writer === undefined ? wanted : sent).values()];
    },
    connected: () => writer !== undefined,
    peers: (): Record<string, PeerStatus> => Object.fromEntries(peers),
  };
}

export type Speaker = ReturnType<typeof createSpeaker>;
