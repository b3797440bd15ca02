import type { Context } from 'aws-lambda';
import { ConfigError, errorMessage, isTransient } from '../../src/errors.js';
import type { Logger } from '../../src/runtime/logger.js';
import type { EnvResult } from './env.js';
import { type FunctionEvent, parseEvent } from './events.js';
import type { PassDeps, PassInput, PassOutcome } from './pass.js';

export type HandlerResult =
  | PassOutcome
  | { readonly status: 'ignored'; readonly reason: string }
  | { readonly status: 'failed'; readonly reason: string };

export interface HandlerDeps {
  readonly env: EnvResult;
  readonly logger: Logger;
  readonly pass: (deps: PassDeps, input: PassInput) => Promise<PassOutcome>;
  /** Everything the pass needs but the config, which the handler takes from `env`. */
  readonly deps: Omit<PassDeps, 'config'>;
}

/**
 * The shape every portlb function shares: parse the event (zod), ignore what is not for it with a
 * log line and no write, run one pass, rethrow transient errors so EventBridge retries the event,
 * and log-and-return permanent ones (a retry would fail the same way).
 */
export function createHandler(
  name: string,
  route: (event: FunctionEvent) => PassInput | { ignore: string },
  deps: HandlerDeps,
): (event: unknown, context?: Pick<Context, 'awsRequestId'>) => Promise<HandlerResult> {
  const base = deps.logger.child({ component: `function-${name}` });
  return async (event, context) => {
    const log = context?.awsRequestId ? base.child({ requestId: context.awsRequestId }) : base;
    if (!deps.env.ok) {
      const reason = `invalid function environment: ${deps.env.problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`;
      log.error({ event: 'config_error', problems: deps.env.problems }, reason);
      return { status: 'failed', reason };
    }
    const parsed = parseEvent(event);
    if (!parsed.ok) {
      log.warn({ event: 'ignored', reason: parsed.reason }, 'event ignored');
      return { status: 'ignored', reason: parsed.reason };
    }
    const input = route(parsed.event);
    if ('ignore' in input) {
      log.info({ event: 'ignored', eventId: parsed.event.id, reason: input.ignore }, 'event ignored');
      return { status: 'ignored', reason: input.ignore };
    }
    try {
      const outcome = await deps.pass({ ...deps.deps, logger: log, config: deps.env.config }, input);
      log.info(
        {
          event: 'done',
          eventId: parsed.event.id,
          status: outcome.status,
          reason: outcome.reason,
          changes: outcome.applied.length,
        },
        `${name}: ${outcome.status}`,
      );
      return outcome;
    } catch (error) {
      if (isTransient(error)) {
        log.warn(
          { event: 'retry', eventId: parsed.event.id, err: errorMessage(error) },
          'transient failure; EventBridge will retry',
        );
        throw error;
      }
      const kind = error instanceof ConfigError ? 'config_error' : 'permanent_error';
      log.error({ event: kind, eventId: parsed.event.id, err: errorMessage(error) }, 'failed; not retrying');
      return { status: 'failed', reason: errorMessage(error) };
    }
  };
}
