import { functionDeps } from './compose.js';
import { createHandler } from './handler.js';

/** The scheduled sweep: repairs blackholes and drift, and removes candidacies of departed nodes. */
export const handler = createHandler(
  'sweep',
  (event) =>
    event.kind === 'scheduled'
      ? { kind: 'sweep' }
      : { ignore: `${event.kind} events go to another function` },
  functionDeps(),
);
