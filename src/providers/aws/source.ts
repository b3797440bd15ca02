import type { DesiredRoute } from '../../core/model.js';
import type { Logger } from '../../runtime/logger.js';
import type { Source } from '../types.js';
import {
  type Candidacy,
  decodeCandidacies,
  type HealthContext,
  newestCandidacies,
  toCandidates,
} from './candidacy.js';
import type { TableSnapshot } from './snapshot.js';
import type { RouteTableView } from './tables.js';

export interface CandidateSourceOptions {
  readonly snapshot: TableSnapshot;
  readonly owner: string;
  readonly services: readonly { readonly name: string; readonly vip: string }[];
  readonly staleSeconds: number;
  /** Unix milliseconds; injected so tests and the planner agree on "now". */
  readonly now: () => number;
  readonly logger: Logger;
  /** Overrules `ready` reports this process knows better about (see `kubernetesVeto`). */
  readonly veto?: HealthContext['veto'];
}

/** Every candidacy this owner published on the managed tables, newest report per instance. */
export function readCandidacies(
  tables: readonly RouteTableView[],
  owner: string,
  logger?: Logger,
): Candidacy[] {
  return newestCandidacies(
    tables.map((table) => {
      const { candidacies, problems } = decodeCandidacies(table.tags, owner);
      for (const problem of problems) {
        logger?.warn(
          { event: 'bad_candidacy_tag', table: table.id, ...problem },
          'ignoring unreadable candidacy tag',
        );
      }
      return candidacies;
    }),
  );
}

/**
 * The desired side in `aws` mode: each configured VIP may route to any LB node that published a
 * fresh `ready` candidacy on the managed tables. The sidecars and the Lambda functions read the
 * same tags, so they make the same choice without talking to each other or to Kubernetes.
 */
export function createCandidateSource(options: CandidateSourceOptions): Source & {
  lastCandidacies(): readonly Candidacy[];
} {
  let last: Candidacy[] = [];
  return {
    async desired(): Promise<DesiredRoute[]> {
      const tables = await options.snapshot.load();
      last = readCandidacies(tables, options.owner, options.logger);
      const candidates = toCandidates(last, {
        now: options.now(),
        staleSeconds: options.staleSeconds,
        veto: options.veto,
      });
      return options.services.map((s) => ({ vip: s.vip, service: s.name, candidates }));
    },
    lastCandidacies: () => last,
  };
}
