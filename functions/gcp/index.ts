import { cloudEvent } from '@google-cloud/functions-framework';
import { gcpFunctionDeps } from './compose.js';
import type { GcpEvent } from './events.js';
import { createGcpHandler } from './handler.js';

/*
 * The three Cloud Functions (entry points as deploy/gcp/functions.tf names them), registered with
 * the Functions Framework as CloudEvent functions; one bundle holds all three.
 */

const deps = gcpFunctionDeps();
const elsewhere = (event: GcpEvent) => `${event.kind} messages go to another function`;

/**
 * Audit-log entries of instances.delete / stop and the preemption system event: deletes portlb's
 * routes to that instance (the first entry of an operation; its last is ignored).
 */
export const instanceEvent = createGcpHandler('instance-event', {
  logger: deps.logger,
  accepts: (event) => event.kind === 'instance-down' || elsewhere(event),
  dispatch: (event, log) =>
    event.kind === 'instance-down'
      ? deps.pass(
          {
            kind: 'instance-down',
            instance: event.instance,
            why: `${event.methodName} of ${event.instance}`,
          },
          log,
        )
      : Promise.resolve({ status: 'ignored', reason: elsewhere(event) }),
});

/** The scheduled sweep: removes routes whose next hop is gone or not running, and drift. */
export const sweep = createGcpHandler('sweep', {
  logger: deps.logger,
  accepts: (event) => event.kind === 'sweep' || elsewhere(event),
  dispatch: (_event, log) => deps.pass({ kind: 'sweep' }, log),
});

/** LB lifecycle messages from sidecars that hold no Compute write permission: programs their routes. */
export const lifecycle = createGcpHandler('lifecycle', {
  logger: deps.logger,
  accepts: (event) => event.kind === 'lifecycle' || elsewhere(event),
  dispatch: (event, log) =>
    event.kind === 'lifecycle'
      ? deps.pass({ kind: 'lifecycle', detail: event.detail }, log)
      : Promise.resolve({ status: 'ignored', reason: elsewhere(event) }),
});

cloudEvent('instanceEvent', instanceEvent);
cloudEvent('sweep', sweep);
cloudEvent('lifecycle', lifecycle);
