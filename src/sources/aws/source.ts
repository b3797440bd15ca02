import type { DesiredRoute } from '../../core/model.js';
import type { Source } from '../../core/ports.js';
import type { RouteTableView } from '../../providers/aws/tables.js';
import type { Logger } from '../../runtime/logger.js';
import {
  type Candidacy,
  decodeCandidacies,
  type HealthContext,
  newestCandidacies,
  toCandidates,
} from './candidacy.js';

export interface CandidateSourceOptions {
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
 * fresh `ready` candidacy on the managed tables, read from the same DescribeRouteTables that read
 * the routes. The sidecars and the Lambda functions read the same tags, so they make the same
 * choice without talking to each other or to Kubernetes.
 */
export function createCandidateSource(options: CandidateSourceOptions): Source<RouteTableView[]> {
  return {
    async desired(observation): Promise<DesiredRoute[]> {
      const candidates = toCandidates(readCandidacies(observation.view, options.owner, options.logger), {
        now: options.now(),
        staleSeconds: options.staleSeconds,
        veto: options.veto,
      });
      return options.services.map((s) => ({ vip: s.vip, service: s.name, candidates }));
    },
  };
}
