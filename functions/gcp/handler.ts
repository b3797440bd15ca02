import { ConfigError, errorMessage, isTransient } from '../../src/errors.js';
import type { Logger } from '../../src/runtime/logger.js';
import { type GcpEvent, messageIdOf, parseCloudEvent } from './events.js';

export interface DispatchOutcome {
  readonly status: string;
  readonly reason?: string | undefined;
}

export type GcpHandlerResult =
  | DispatchOutcome
  | { readonly status: 'ignored'; readonly reason: string }
  | { readonly status: 'failed'; readonly reason: string };

export interface GcpHandlerDeps {
  readonly logger: Logger;
  /** The work for one parsed event (the pass on the shared runOnce: Part B of issue 13). */
  readonly dispatch: (event: GcpEvent, log: Logger) => Promise<DispatchOutcome>;
  /** Which events this function takes; others are ignored with the reason returned. */
  readonly accepts?: (event: GcpEvent) => true | string;
}

/**
 * The shape every portlb Cloud Function shares (a CloudEvent function for the Functions
 * Framework): parse the event (zod), ignore what is not for it with a log line and no write,
 * dispatch, and throw transient errors so Pub/Sub redelivers the message (the framework answers
 * the push with a 500); a permanent error is logged and acknowledged, since a redelivery would
 * fail the same way.
 */
export function createGcpHandler(
  name: string,
  deps: GcpHandlerDeps,
): (event: unknown) => Promise<GcpHandlerResult> {
  const log = deps.logger.child({ component: `function-${name}` });
  return async (input) => {
    const parsed = parseCloudEvent(input);
    if (!parsed.ok) {
      log.warn({ event: 'ignored', messageId: messageIdOf(input), reason: parsed.reason }, 'event ignored');
      return { status: 'ignored', reason: parsed.reason };
    }
    const event = parsed.event;
    const accepted = deps.accepts?.(event) ?? true;
    if (accepted !== true) {
      log.info({ event: 'ignored', messageId: event.id, reason: accepted }, 'event ignored');
      return { status: 'ignored', reason: accepted };
    }
    const child = log.child({ messageId: event.id, kind: event.kind });
    try {
      const outcome = await deps.dispatch(event, child);
      child.info(
        { event: 'done', status: outcome.status, reason: outcome.reason },
        `${name}: ${outcome.status}`,
      );
      return outcome;
    } catch (error) {
      if (isTransient(error)) {
        child.warn({ event: 'retry', err: errorMessage(error) }, 'transient failure; Pub/Sub will redeliver');
        throw error;
      }
      const kind = error instanceof ConfigError ? 'config_error' : 'permanent_error';
      child.error({ event: kind, err: errorMessage(error) }, 'failed; not retrying');
      return { status: 'failed', reason: errorMessage(error) };
    }
  };
}
