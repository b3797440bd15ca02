import type { Change } from '../../core/model.js';
import type { ApplyResult } from '../../core/ports.js';
import { PermanentError } from '../../errors.js';
import type { Ec2Port } from '../../providers/aws/port.js';
import { MAX_TAGS_PER_RESOURCE, type RouteTableView } from '../../providers/aws/tables.js';
import type { Logger } from '../../runtime/logger.js';
import { canonical, ownership } from './ownership.js';
import { type StoreStep, writeRecordSteps } from './record-store.js';
import {
  decodeRecords,
  packRecords,
  peakTags,
  type RecordStep,
  recordStep,
  sameSet,
  tagLimitMessage,
} from './records.js';

/** Record tag key -> its VIPs. */
type Chunks = ReadonlyMap<string, readonly string[]>;

/** One table's records as last read or written, and how many tags it holds in all. */
interface TableState {
  chunks: Chunks;
  tagCount: number;
}

function vipsOf(state: TableState): Set<string> {
  return new Set([...state.chunks.values()].flat());
}

function toChunks(packed: ReadonlyMap<string, string>): Chunks {
  return new Map([...packed].map(([key, value]) => [key, value.split(' ')]));
}

/** The step from a table's records to `target`, and the records it leaves (none when nothing changes). */
interface Pending extends StoreStep {
  readonly chunks: Chunks;
}

function stepTo(owner: string, chunks: Chunks, target: ReadonlySet<string>): Omit<Pending, 'table'> {
  const current = new Set([...chunks.values()].flat());
  if (sameSet(current, target)) return { step: { create: [], remove: [] }, chunks };
  const packed = packRecords(owner, target, chunks);
  return { step: recordStep(chunks, packed), chunks: toChunks(packed) };
}

const changes = (step: RecordStep) => step.create.length > 0 || step.remove.length > 0;

/**
 * Keeps each managed table's route records true (see records.ts): a VIP is recorded before its
 * route is created, and its record goes only after its route is gone. Replacing a route needs no
 * record write, so a failover never waits on tag room. Works from the tables the provider read in
 * its one DescribeRouteTables; every write is refused up front, naming the numbers, when it would
 * take a table past EC2's 50 tags.
 */
export function createRecordKeeper(options: {
  readonly ec2: Ec2Port;
  readonly owner: string;
  readonly vips: ReadonlySet<string>;
  readonly logger: Logger;
}) {
  const { ec2, owner } = options;
  const log = options.logger.child({ component: 'aws-records' });
  let tables = new Map<string, TableState>();

  const fits = (state: TableState, step: RecordStep) =>
    peakTags(state.tagCount, step) <= MAX_TAGS_PER_RESOURCE;

  function commit(state: TableState, step: RecordStep, chunks: Chunks) {
    state.chunks = chunks;
    state.tagCount += step.create.length - step.remove.length;
  }

  return {
    /**
     * Takes the tables as read, and records what the routes show: a route of a configured VIP
     * with no record (made before records existed, or by a writer that crashed) is recorded; a
     * record whose destination is now someone else's route is dropped. No write in steady state.
     */
    async load(views: readonly RouteTableView[], lbTargets: ReadonlySet<string>): Promise<void> {
      tables = new Map();
      const steps: Pending[] = [];
      for (const view of views) {
        const decoded = decodeRecords(view.tags, owner);
        for (const problem of decoded.problems) {
          log.warn(
            { event: 'bad_route_record', table: view.id, ...problem },
            'ignoring unreadable route record',
          );
        }
        const state: TableState = {
          chunks: new Map(decoded.chunks),
          tagCount: Object.keys(view.tags).length,
        };
        tables.set(view.id, state);
        const target = new Set(decoded.vips);
        for (const route of view.routes) {
          const vip = canonical(route.destination);
          if (vip === undefined) continue;
          const owns = ownership(route, options.vips.has(vip), target.has(vip), (t) => lbTargets.has(t));
          if (owns === 'foreign') target.delete(vip);
          else if (options.vips.has(vip)) target.add(vip);
        }
        const next = stepTo(owner, state.chunks, target);
        if (!changes(next.step)) continue;
        if (!fits(state, next.step)) {
          log.warn(
            { event: 'route_record_refused', table: view.id },
            tagLimitMessage(view.id, state.tagCount, next.step, 'its existing routes'),
          );
          continue;
        }
        steps.push({ table: view.id, ...next });
      }
      if (steps.length === 0) return;
      const failed = await writeRecordSteps(ec2, steps);
      for (const { table, step, chunks } of steps) {
        const error = failed.get(table);
        const state = tables.get(table);
        if (error !== undefined || state === undefined) {
          log.warn(
            { event: 'route_record_failed', table, err: String(error) },
            'could not update route records',
          );
          continue;
        }
        commit(state, step, chunks);
        log.info(
          { event: 'route_records', table, added: step.create.length, removed: step.remove.length },
          'route records brought in line with the routes',
        );
      }
    },

    recorded(table: string): ReadonlySet<string> {
      const state = tables.get(table);
      return state ? vipsOf(state) : new Set();
    },

    /**
     * Before routes are written: records the VIPs about to get a route. Returns the tables where
     * creates must not go ahead (no room for their records, or the write failed),
     * with why; replaces go ahead everywhere.
     */
    async before(planned: readonly Change[]): Promise<Map<string, unknown>> {
      const refused = new Map<string, unknown>();
      const steps: Pending[] = [];
      for (const [table, list] of Map.groupBy(planned, (c) => c.table)) {
        const state = tables.get(table) ?? { chunks: new Map(), tagCount: 0 };
        tables.set(table, state);
        const creates = list.filter((c) => c.kind === 'create').map((c) => c.vip);
        // Deletes need no room: their records shrink, after the routes are gone (see `after`).
        const first = stepTo(owner, state.chunks, new Set([...vipsOf(state), ...creates]));
        if (!fits(state, first.step)) {
          const what = creates.join(', ');
          refused.set(
            table,
            new PermanentError(tagLimitMessage(table, state.tagCount, first.step, `the routes of ${what}`)),
          );
          continue;
        }
        if (changes(first.step)) steps.push({ table, ...first });
      }
      const failed = await writeRecordSteps(ec2, steps);
      for (const { table, step, chunks } of steps) {
        const error = failed.get(table);
        const state = tables.get(table);
        if (error !== undefined) refused.set(table, error);
        else if (state !== undefined) commit(state, step, chunks);
      }
      return refused;
    },

    /** After routes are written: drops the records of routes now gone. Returns tables whose records could not be updated. */
    async after(results: readonly ApplyResult[]): Promise<Map<string, unknown>> {
      const steps: Pending[] = [];
      const gone = results.filter((r) => r.error === undefined && r.change.kind === 'delete');
      for (const [table, list] of Map.groupBy(gone, (r) => r.change.table)) {
        const state = tables.get(table);
        if (state === undefined) continue;
        const rest = vipsOf(state);
        for (const { change } of list) rest.delete(change.vip);
        const next = stepTo(owner, state.chunks, rest);
        // A full table cannot take the smaller record before the old one goes: out first, then.
        if (changes(next.step)) steps.push({ table, ...next, removeFirst: !fits(state, next.step) });
      }
      const failed = await writeRecordSteps(ec2, steps);
      for (const { table, step, chunks } of steps) {
        const state = tables.get(table);
        if (!failed.has(table) && state !== undefined) commit(state, step, chunks);
      }
      return failed;
    },
  };
}
