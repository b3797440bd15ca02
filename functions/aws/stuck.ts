import type { Skipped } from '../../src/core/model.js';
import { reasonText } from '../../src/core/reasons.js';
import { errorMessage } from '../../src/errors.js';
import type { Logger } from '../../src/runtime/logger.js';
import type { StuckDetail } from './pass.js';

/** The CloudWatch metric an operator alarms on: routes an instance event could not move. */
export const STUCK_METRIC = 'RoutesStuck';

/**
 * Routes that stay on a dying instance because no healthy LB could take them: traffic to these
 * VIPs is about to stop. Said loudly three ways: a warning naming the VIPs, a CloudWatch metric
 * (embedded metric format in the same log line, no extra call), and a `portlb Route Stuck` event
 * on the portlb bus for whoever subscribes. A failed event is logged, not retried: the routes
 * cannot move either way, and the log line and metric already carry it.
 */
export async function reportStuck(
  deps: { logger: Logger; announce?: ((detail: StuckDetail) => Promise<void>) | undefined },
  input: { instanceId: string; why: string },
  stuck: readonly Skipped[],
): Promise<void> {
  const vips = [...new Set(stuck.map((s) => s.vip))].sort();
  const routes = stuck.map((s) => ({ table: s.table ?? '', vip: s.vip, target: s.target ?? '' }));
  deps.logger.warn(
    {
      event: 'routes_stuck',
      instanceId: input.instanceId,
      vips,
      reasons: [...new Set(stuck.map((s) => reasonText(s.reason)))],
      _aws: {
        Timestamp: Date.now(),
        CloudWatchMetrics: [
          {
            Namespace: 'portlb',
            Dimensions: [['InstanceId']],
            Metrics: [{ Name: STUCK_METRIC, Unit: 'Count' }],
          },
        ],
      },
      InstanceId: input.instanceId,
      [STUCK_METRIC]: routes.length,
    },
    `${input.why}, but no healthy LB can take ${vips.join(', ')}: ${routes.length} route(s) stay on it and its traffic will stop`,
  );
  if (deps.announce === undefined) return;
  try {
    await deps.announce({ instanceId: input.instanceId, why: input.why, routes });
  } catch (error) {
    deps.logger.warn(
      { event: 'stuck_event_failed', err: errorMessage(error) },
      'could not publish the Route Stuck event',
    );
  }
}
