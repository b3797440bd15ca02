import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  type Applied,
  decideNftables,
  type LiveTable,
  parseLiveTable,
} from '../../src/dataplane/nftables-live.js';
import { renderNftables } from '../../src/dataplane/render-nftables.js';
import { dataPlaneFixture, servicesModel } from './fixtures.js';

/** What Debian's nft 1.0.6 printed for `nft -j list table inet portlb` after applying the fixture's rules. */
const listed = readFileSync(dataPlaneFixture('nft-list-services.json'), 'utf8');

type Entries = { nftables: Record<string, Record<string, unknown>>[] };
const edit = (change: (entries: Entries) => void): string => {
  const json = JSON.parse(listed) as Entries;
  change(json);
  return JSON.stringify(json);
};

describe('parseLiveTable', () => {
  it('reads the owner marker and the rules per chain from real nft output', async () => {
    const rendered = renderNftables(await servicesModel());
    const live = parseLiveTable(listed);
    expect(live.marker).toEqual({ owner: 'lab', intent: rendered.intent });
    expect(live.shape).toEqual(rendered.shape);
  });

  it('ignores handles but sees any other change', () => {
    const base = parseLiveTable(listed).fingerprint;
    const renumbered = edit((j) => {
      for (const e of j.nftables)
        for (const v of Object.values(e)) if ('handle' in v) v.handle = Number(v.handle) + 100;
    });
    expect(parseLiveTable(renumbered).fingerprint).toBe(base);
    const policy = edit((j) => {
      const chain = j.nftables.find((e) => e.chain?.name === 'prerouting')!;
      chain.chain!.policy = 'drop';
    });
    expect(parseLiveTable(policy).fingerprint).not.toBe(base);
  });

  it('has no marker when the owner rule is missing', () => {
    const withoutOwner = edit((j) => {
      j.nftables = j.nftables.filter((e) => e.rule?.chain !== 'owner');
    });
    const live = parseLiveTable(withoutOwner);
    expect(live.marker).toBeUndefined();
  });

  it('refuses output that is not nft JSON', () => {
    expect(() => parseLiveTable('{"tables": []}')).toThrow(/nft -j printed something unexpected/);
  });
});

describe('decideNftables', async () => {
  const rendered = renderNftables(await servicesModel());
  const other = renderNftables(await servicesModel({ seed: 1 }));
  const live = parseLiveTable(listed);
  const appliedNow: Applied = { intent: rendered.intent, fingerprint: live.fingerprint };
  const cases: [string, LiveTable | undefined, Applied | undefined, typeof rendered, string, string][] = [
    ['no table yet', undefined, undefined, rendered, 'apply', 'table_missing'],
    [
      'a table without the owner rule',
      { shape: {}, fingerprint: 'x', chains: {}, maps: {} },
      undefined,
      rendered,
      'refuse',
      'not_owned',
    ],
    [
      'another owner’s table',
      { ...live, marker: { owner: 'prod', intent: rendered.intent } },
      undefined,
      rendered,
      'refuse',
      'other_owner',
    ],
    ['a restart with the same rules: adopt', live, undefined, rendered, 'keep', 'adopted'],
    ['a restart with other rules', live, undefined, other, 'apply', 'rules_changed'],
    [
      'a restart, right marker, wrong rules',
      { ...live, shape: { ...live.shape, owner: 2 } },
      undefined,
      rendered,
      'apply',
      'drifted',
    ],
    ['steady state', live, appliedNow, rendered, 'keep', 'unchanged'],
    ['new rules', live, appliedNow, other, 'apply', 'rules_changed'],
    [
      'someone edited the table',
      { ...live, fingerprint: 'edited' },
      appliedNow,
      rendered,
      'apply',
      'drifted',
    ],
  ];
  it.each(cases)('%s', (_name, table, applied, want, action, code) => {
    const decision = decideNftables(want, table, applied);
    expect(decision).toMatchObject({ action, reason: { code } });
  });
});
