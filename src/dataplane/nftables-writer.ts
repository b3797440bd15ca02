import { errorMessage } from '../errors.js';
import { CommandError } from '../system/exec.js';
import { NFT_TABLE, type NftFamily, tableOf } from './nft-table.js';
import { type Applied, decideNftables, type LiveTable, parseLiveTable } from './nftables-live.js';
import { type ApplyOutcome, PreviousRulesServeError, type RuleWriter } from './port.js';
import { renderNftables } from './render-nftables.js';
import type { Runner } from './system.js';

const missing = (error: unknown) =>
  error instanceof CommandError && /No such file or directory/.test(error.stderr);

async function listJson(run: Runner, argv: readonly string[]): Promise<{ nftables: unknown[] } | undefined> {
  try {
    return JSON.parse((await run(argv)).stdout) as { nftables: unknown[] };
  } catch (error) {
    if (missing(error)) return undefined;
    throw error;
  }
}

/**
 * portlb's table as nft shows it now; undefined when there is none. The netdev (tunnel) table is
 * listed without elements (`-t`: its flow maps hold every flow), and its rule maps one by one, so
 * that their content still counts for drift.
 */
export async function readLiveTable(
  run: Runner,
  family: NftFamily = 'inet',
  ruleMaps: readonly string[] = [],
): Promise<LiveTable | undefined> {
  const terse = family === 'netdev' ? ['-t'] : [];
  const table = await listJson(run, ['nft', '-j', ...terse, 'list', 'table', family, NFT_TABLE.name]);
  if (table === undefined) return undefined;
  const full = new Map<string, unknown>();
  for (const name of ruleMaps) {
    const listed = await listJson(run, ['nft', '-j', 'list', 'map', family, NFT_TABLE.name, name]);
    const entry = listed?.nftables.find((e) => typeof e === 'object' && e !== null && 'map' in e);
    if (entry !== undefined) full.set(name, entry);
  }
  const entries = table.nftables.map((e) => {
    const map = (e as { map?: { name?: unknown } }).map;
    return typeof map?.name === 'string' ? (full.get(map.name) ?? e) : e;
  });
  return parseLiveTable(JSON.stringify({ nftables: entries }));
}

const OTHER: Record<NftFamily, NftFamily> = { inet: 'netdev', netdev: 'inet' };

/**
 * Writes portlb's nftables table: `nft -f -` with one transaction that moves the table to the
 * rendered one (replaced whole for `nat`; for `tunnel`, everything but the flows' state), only
 * when the rendered rules differ from what is there (or someone changed the table), and never a
 * table that is not portlb's. After each write it reads the table back, so a later edit by
 * someone else shows as drift. A portlb table of this owner in the other family (the forwarding
 * changed) goes in the same transaction.
 */
export function createNftablesWriter(run: Runner): RuleWriter {
  let applied: Applied | undefined;
  return {
    name: 'nftables',
    async sync(model): Promise<ApplyOutcome> {
      const rendered = renderNftables(model);
      const before = await readLiveTable(run, rendered.family, rendered.ruleMaps);
      const other = await readLiveTable(run, OTHER[rendered.family]);
      const stale =
        other?.marker?.owner === rendered.owner ? `delete ${tableOf(OTHER[rendered.family])}\n` : '';
      const decision = decideNftables(rendered, before, applied);
      if (decision.action === 'refuse') return { action: 'refused', reason: decision.reason };
      if (decision.action === 'keep' && stale === '') {
        if (decision.adopted && before)
          applied = { intent: rendered.intent, fingerprint: before.fingerprint };
        return { action: decision.adopted ? 'adopted' : 'unchanged', reason: decision.reason };
      }
      try {
        await run(['nft', '-f', '-'], { input: `${stale}${rendered.scriptFor(before)}` });
      } catch (error) {
        // One transaction: what was there before is still there. Ours (an earlier run's) serves.
        if (before?.marker?.owner !== rendered.owner) throw error;
        throw new PreviousRulesServeError(errorMessage(error), { cause: error });
      }
      const after = await readLiveTable(run, rendered.family, rendered.ruleMaps);
      applied = after && { intent: rendered.intent, fingerprint: after.fingerprint };
      const reason =
        decision.action === 'apply'
          ? decision.reason
          : { code: 'forwarding_changed', detail: `${tableOf(OTHER[rendered.family])} removed` };
      return { action: 'applied', reason };
    },
  };
}
