import { functionDeps } from './compose.js';
import { createHandler } from './handler.js';

/**
 * LB pod lifecycle (ready, draining, gone) from sidecars that hold no EC2 write permission: records
 * the candidacy on the managed tables and programs the routes.
 */
export const handler = createHandler(
  'lifecycle',
  (event) =>
    event.kind === 'lifecycle'
      ? { kind: 'lifecycle', detail: event.detail }
      : { ignore: `${event.kind} events go to another function` },
  functionDeps(),
);
