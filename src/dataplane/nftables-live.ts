import { createHash } from 'node:crypto';
import { z } from 'zod';
import { PermanentError } from '../errors.js';
import {
  flowMapDefinition,
  hookSpec,
  NFT_TABLE,
  OWNER_CHAIN,
  type RenderedNftables,
  tableOf,
} from './nft-table.js';

/*
 * portlb's table as `nft -j list table inet portlb` shows it, and the pure decision of what to
 * do about it: apply, keep (adopting a table a previous run left), or refuse a table that is not
 * portlb's.
 */

export interface LiveTable {
  /** The owner rule's comment, parsed; absent when the table has none (not portlb's). */
  readonly marker?: { readonly owner: string; readonly intent: string };
  /** Rules per chain. */
  readonly shape: Readonly<Record<string, number>>;
  /** Hash of every chain and rule without their handles: changes when anyone edits the table. */
  readonly fingerprint: string;
  /** Each chain, with its hook (`hookSpec`) when it is a base chain. */
  readonly chains: Readonly<Record<string, string | undefined>>;
  /** Each map with its definition (`flowMapDefinition`), so a kept one can be checked. */
  readonly maps: Readonly<Record<string, string>>;
}

/** nft's JSON: a list of one-key objects (`{chain: {...}}`, `{rule: {...}}`); zod only at this edge. */
const nftJson = z.object({ nftables: z.array(z.record(z.string(), z.unknown())) });
const chainEntry = z.looseObject({
  table: z.string(),
  name: z.string(),
  hook: z.string().optional(),
  prio: z.number().optional(),
  dev: z.union([z.string(), z.array(z.string())]).optional(),
});
const mapEntry = z.looseObject({
  table: z.string(),
  name: z.string(),
  size: z.number().optional(),
  timeout: z.number().optional(),
});
const ruleEntry = z.looseObject({ table: z.string(), chain: z.string(), comment: z.string().optional() });

const MARKER = /^portlb owner=(\S+) rules=([0-9a-f]+)$/;

function withoutHandle(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const { handle: _handle, ...rest } = value as Record<string, unknown>;
  return rest;
}

export function parseLiveTable(text: string): LiveTable {
  const parsed = nftJson.safeParse(JSON.parse(text));
  if (!parsed.success)
    throw new PermanentError(`nft -j printed something unexpected: ${parsed.error.message}`);
  const shape: Record<string, number> = {};
  const chains: Record<string, string | undefined> = {};
  const maps: Record<string, string> = {};
  let marker: LiveTable['marker'];
  const kept: unknown[] = [];
  for (const entry of parsed.data.nftables) {
    if ('chain' in entry) {
      const chain = chainEntry.parse(entry.chain);
      if (chain.table !== NFT_TABLE.name) continue;
      shape[chain.name] = shape[chain.name] ?? 0;
      const devices = chain.dev === undefined ? [] : [chain.dev].flat();
      chains[chain.name] =
        chain.hook === undefined ? undefined : hookSpec(chain.hook, chain.prio ?? 0, devices);
      kept.push({ chain: withoutHandle(entry.chain) });
    } else if ('rule' in entry) {
      const rule = ruleEntry.parse(entry.rule);
      if (rule.table !== NFT_TABLE.name) continue;
      shape[rule.chain] = (shape[rule.chain] ?? 0) + 1;
      const match = rule.chain === OWNER_CHAIN ? MARKER.exec(rule.comment ?? '') : null;
      if (match) marker = { owner: match[1]!, intent: match[2]! };
      kept.push({ rule: withoutHandle(entry.rule) });
    } else if (!('metainfo' in entry) && !('table' in entry)) {
      if ('map' in entry) {
        const map = mapEntry.parse(entry.map);
        maps[map.name] = flowMapDefinition(map.size ?? 0, map.timeout ?? 0);
      }
      kept.push(entry); // sets, maps, counters someone added: part of what must not drift
    }
  }
  const fingerprint = createHash('sha256').update(JSON.stringify(kept)).digest('hex').slice(0, 16);
  return { ...(marker && { marker }), shape, fingerprint, chains, maps };
}

export interface WriteReason {
  readonly code: string;
  readonly detail: string;
}

export type NftDecision =
  | { readonly action: 'apply'; readonly reason: WriteReason }
  | { readonly action: 'keep'; readonly adopted: boolean; readonly reason: WriteReason }
  | { readonly action: 'refuse'; readonly reason: WriteReason };

/** What this process last applied or adopted: the rules' hash and the table as it looked right after. */
export interface Applied {
  readonly intent: string;
  readonly fingerprint: string;
}

function shapeDifference(want: Readonly<Record<string, number>>, have: Readonly<Record<string, number>>) {
  const names = [...new Set([...Object.keys(want), ...Object.keys(have)])].sort();
  const chain = names.find((n) => want[n] !== have[n]);
  return chain === undefined
    ? undefined
    : `chain ${chain} has ${have[chain] ?? 'no'} rule(s), not ${want[chain] ?? 0}`;
}

export function decideNftables(
  rendered: RenderedNftables,
  live: LiveTable | undefined,
  applied: Applied | undefined,
): NftDecision {
  const table = tableOf(rendered.family);
  if (live === undefined)
    return { action: 'apply', reason: { code: 'table_missing', detail: `no ${table} yet` } };
  if (live.marker === undefined) {
    const detail = `${table} exists without portlb's owner rule: it is someone else's, and portlb changes no table it did not create`;
    return { action: 'refuse', reason: { code: 'not_owned', detail } };
  }
  if (live.marker.owner !== rendered.owner) {
    const detail = `${table} belongs to portlb owner "${live.marker.owner}", not "${rendered.owner}"`;
    return { action: 'refuse', reason: { code: 'other_owner', detail } };
  }
  if (applied !== undefined && live.fingerprint !== applied.fingerprint) {
    return { action: 'apply', reason: { code: 'drifted', detail: `${table} was changed outside portlb` } };
  }
  const intent = applied?.intent ?? live.marker.intent;
  if (intent !== rendered.intent) {
    return {
      action: 'apply',
      reason: { code: 'rules_changed', detail: `rules ${intent} -> ${rendered.intent}` },
    };
  }
  if (applied !== undefined)
    return { action: 'keep', adopted: false, reason: { code: 'unchanged', detail: '' } };
  const difference = shapeDifference(rendered.shape, live.shape);
  if (difference !== undefined) {
    return {
      action: 'apply',
      reason: { code: 'drifted', detail: `${table} carries the current marker but ${difference}` },
    };
  }
  return {
    action: 'keep',
    adopted: true,
    reason: {
      code: 'adopted',
      detail: `${table} left by an earlier run already has rules ${rendered.intent}`,
    },
  };
}
