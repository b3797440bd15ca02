import { createEventBridgeClient } from '../../src/providers/aws/client.js';
import { putEvent } from '../../src/publishers/aws/event.js';
import type { FunctionConfig } from './env.js';
import type { PassDeps, StuckDetail } from './pass.js';

// Its own module, imported by the instance-event entry alone: the other bundles carry no EventBridge client.

/** Events portlb's functions put on the portlb bus: routes an instance event could not move. */
const STUCK_SOURCE = 'portlb.functions';
const STUCK_DETAIL_TYPE = 'portlb Route Stuck';

/** `portlb Route Stuck` events on PORTLB_EVENT_BUS; none when no bus is configured. */
export function stuckAnnouncer(config: FunctionConfig): PassDeps['announce'] {
  const bus = config.eventBus;
  if (bus === undefined) return undefined;
  const events = createEventBridgeClient({ region: config.region, endpoint: config.eventsEndpoint });
  return (detail: StuckDetail) =>
    putEvent(events, bus, { source: STUCK_SOURCE, detailType: STUCK_DETAIL_TYPE, detail });
}
