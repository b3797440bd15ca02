import type { Ec2Port } from './port.js';
import { describeTables, type RouteTableView, type TableSelector } from './tables.js';

/**
 * The managed tables as read at the start of one reconcile, shared by the candidate source and
 * the provider so that a reconcile costs one DescribeRouteTables. The runtime asks the source
 * first (`load`: always a fresh read), then the provider's `tables()` (`current`) and `observe()`
 * (`take`: uses and forgets the read, so the next reconcile reads again). Used alone, the provider
 * reads for itself.
 */
export interface TableSnapshot {
  load(): Promise<RouteTableView[]>;
  current(): Promise<RouteTableView[]>;
  take(): Promise<RouteTableView[]>;
  /** Drops a read known to be stale (after a write). */
  forget(): void;
}

export function createTableSnapshot(ec2: Ec2Port, selector: TableSelector): TableSnapshot {
  let held: Promise<RouteTableView[]> | undefined;
  const load = () => {
    const read = describeTables(ec2, selector);
    held = read;
    // A failed read must not be served again from the cache.
    read.catch(() => {
      if (held === read) held = undefined;
    });
    return read;
  };
  return {
    load,
    current: () => held ?? load(),
    async take() {
      const read = held ?? load();
      held = undefined;
      return read;
    },
    forget() {
      held = undefined;
    },
  };
}
