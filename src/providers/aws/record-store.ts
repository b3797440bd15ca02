import { CreateTagsCommand, DeleteTagsCommand } from '@aws-sdk/client-ec2';
import { call } from './errors.js';
import type { Ec2Port } from './port.js';
import type { RecordStep } from './records.js';

/** Tables that take the same tags share one call (a managed table's records are usually alike). */
function groups<T>(items: readonly { table: string; tags: T }[], skip: (tags: T) => boolean) {
  const byTags = new Map<string, { tables: string[]; tags: T }>();
  for (const { table, tags } of items) {
    if (skip(tags)) continue;
    const id = JSON.stringify(tags);
    const group = byTags.get(id) ?? { tables: [], tags };
    group.tables.push(table);
    byTags.set(id, group);
  }
  return [...byTags.values()];
}

/** One table's record change; `removeFirst` when the table has no room for create-then-remove. */
export interface StoreStep {
  readonly table: string;
  readonly step: RecordStep;
  readonly removeFirst?: boolean | undefined;
}

async function createAll(ec2: Ec2Port, steps: readonly StoreStep[], failed: Map<string, unknown>) {
  const creates = groups(
    steps.filter((s) => !failed.has(s.table)).map((s) => ({ table: s.table, tags: s.step.create })),
    (tags) => tags.length === 0,
  );
  await Promise.all(
    creates.map(({ tables, tags }) =>
      call({ action: 'CreateTags', resource: tables.join(', ') }, () =>
        ec2.send(new CreateTagsCommand({ Resources: tables, Tags: [...tags] })),
      ).catch((error: unknown) => {
        for (const table of tables) failed.set(table, error);
      }),
    ),
  );
}

async function removeAll(ec2: Ec2Port, steps: readonly StoreStep[], failed: Map<string, unknown>) {
  const removes = groups(
    steps.filter((s) => !failed.has(s.table)).map((s) => ({ table: s.table, tags: s.step.remove })),
    (keys) => keys.length === 0,
  );
  await Promise.all(
    removes.map(({ tables, tags }) =>
      call({ action: 'DeleteTags', resource: tables.join(', ') }, () =>
        ec2.send(new DeleteTagsCommand({ Resources: tables, Tags: tags.map((Key) => ({ Key })) })),
      ).catch((error: unknown) => {
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
  const normal = steps.filter((s) => !s.removeFirst);
  const reversed = steps.filter((s) => s.removeFirst);
  await Promise.all([
    (async () => {
      await createAll(ec2, normal, failed);
      await removeAll(ec2, normal, failed);
    })(),
    (async () => {
      await removeAll(ec2, reversed, failed);
      await createAll(ec2, reversed, failed);
    })(),
  ]);
  return failed;
}
