import { CreateTagsCommand, DeleteTagsCommand } from '@aws-sdk/client-ec2';
import { call } from '../../providers/aws/errors.js';
import type { Ec2Port } from '../../providers/aws/port.js';
import type { RecordStep } from './records.js';

/** One table's record change; `removeFirst` when the table has no room for create-then-remove. */
export interface StoreStep {
  readonly table: string;
  readonly step: RecordStep;
  readonly removeFirst?: boolean | undefined;
}

/**
 * One half of the steps (the new record tags in, or the old ones out) on the tables that have not
 * failed yet. Tables that take the same tags share one call (a managed table's records are usually
 * alike); a failed call marks all of its tables failed.
 */
async function writeHalf<T>(
  steps: readonly StoreStep[],
  failed: Map<string, unknown>,
  action: 'CreateTags' | 'DeleteTags',
  tagsOf: (step: RecordStep) => readonly T[],
  send: (tables: string[], tags: readonly T[]) => Promise<unknown>,
): Promise<void> {
  const byTags = new Map<string, { tables: string[]; tags: readonly T[] }>();
  for (const { table, step } of steps) {
    const tags = tagsOf(step);
    if (failed.has(table) || tags.length === 0) continue;
    const id = JSON.stringify(tags);
    const group = byTags.get(id) ?? { tables: [], tags };
    group.tables.push(table);
    byTags.set(id, group);
  }
  await Promise.all(
    [...byTags.values()].map(({ tables, tags }) =>
      call({ action, resource: tables.join(', ') }, () => send(tables, tags)).catch((error: unknown) => {
        for (const table of tables) failed.set(table, error);
      }),
    ),
  );
}

/**
 * Writes record steps: every table's new record tags first, then, on the tables where that
 * worked, the old ones out, so no moment leaves a live route unrecorded. A step marked
 * `removeFirst` (a full table dropping a record) goes the other way: a crash in between leaves the
 * remaining VIPs unrecorded until the next read records their routes again. Returns the tables
 * whose step failed, with the error; a failed table keeps its old records (and maybe some new ones).
 */
export async function writeRecordSteps(
  ec2: Ec2Port,
  steps: readonly StoreStep[],
): Promise<Map<string, unknown>> {
  const failed = new Map<string, unknown>();
  const create = (some: readonly StoreStep[]) =>
    writeHalf(
      some,
      failed,
      'CreateTags',
      (step) => step.create,
      (tables, tags) => ec2.send(new CreateTagsCommand({ Resources: tables, Tags: [...tags] })),
    );
  const remove = (some: readonly StoreStep[]) =>
    writeHalf(
      some,
      failed,
      'DeleteTags',
      (step) => step.remove,
      (tables, keys) =>
        ec2.send(new DeleteTagsCommand({ Resources: tables, Tags: keys.map((Key) => ({ Key })) })),
    );
  const normal = steps.filter((s) => !s.removeFirst);
  const reversed = steps.filter((s) => s.removeFirst);
  await Promise.all([
    create(normal).then(() => remove(normal)),
    remove(reversed).then(() => create(reversed)),
  ]);
  return failed;
}
