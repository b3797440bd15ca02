import { errorMessage } from '../errors.js';
import { CommandError } from '../system/exec.js';
import { type Applied, decideNftables, type LiveTable, parseLiveTable } from './nftables-live.js';
import { type ApplyOutcome, PreviousRulesServeError, type RuleWriter } from './port.js';
import { NFT_TABLE, renderNftables } from './render-nftables.js';
import type { Runner } from './system.js';

const LIST = ['nft', '-j', 'list', 'table', NFT_TABLE.family, NFT_TABLE.name] as const;

/** portlb's table as nft shows it now; undefined when there is none. */
export async function readLiveTable(run: Runner): Promise<LiveTable | undefined> {
  try {
    return parseLiveTable((await run(LIST)).stdout);
  } catch (error) {
    if (error instanceof CommandError && /No such file or directory/.test(error.stderr)) return undefined;
    throw error;
  }
}

/**
 * Writes portlb's nftables table: `nft -f -` with one transaction that replaces the table whole,
 * only when the rendered rules differ from what is there (or someone changed the table), and
 * never a table that is not portlb's. After each write it reads the table back, so a later edit
 * by someone else shows as drift.
 */
export function createNftablesWriter(run: Runner): RuleWriter {
  let applied: Applied | undefined;
  return {
    name: 'nftables',
    async sync(model): Promise<ApplyOutcome> {
      const rendered = renderNftables(model);
      const before = await readLiveTable(run);
      const decision = decideNftables(rendered, before, applied);
      if (decision.action === 'refuse') return { action: 'refused', reason: decision.reason };
      if (decision.action === 'keep') {
        if (decision.adopted && before)
          applied = { intent: rendered.intent, fingerprint: before.fingerprint };
        return { action: decision.adopted ? 'adopted' : 'unchanged', reason: decision.reason };
      }
      try {
        await run(['nft', '-f', '-'], { input: rendered.script });
      } catch (error) {
        // One transaction: what was there before is still there. Ours (an earlier run's) serves.
        if (before?.marker?.owner !== rendered.owner) throw error;
        throw new PreviousRulesServeError(errorMessage(error), { cause: error });
      }
      const after = await readLiveTable(run);
      applied = after && { intent: rendered.intent, fingerprint: after.fingerprint };
      return { action: 'applied', reason: decision.reason };
    },
  };
}
