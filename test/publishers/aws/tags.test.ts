import { CreateTagsCommand, DeleteTagsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { PermanentError } from '../../../src/errors.js';
import { toTableView } from '../../../src/providers/aws/tables.js';
import { writeCandidacy } from '../../../src/publishers/aws/tags.js';
import { type Candidacy, candidateTag } from '../../../src/sources/aws/candidacy.js';
import { candidacyOf } from '../../fixtures/aws/candidacy.js';
import { candidacyTags, nodeA, otherTags, routeTable } from '../../fixtures/aws/ec2.js';

const ec2 = mockClient(EC2Client);
const owner = 'portlb';
const T = 1_764_000_000_000;
const report = (state: Candidacy['state'], at = T) => candidacyOf(nodeA, at, state);

/** rtb-1 holds `held` (if any) beside `others` unrelated tags; rtb-2 holds nothing. */
function tables(held: Candidacy | undefined, others = 0) {
  return [
    toTableView(routeTable('rtb-1', [], { ...otherTags(others), ...(held && candidacyTags(owner, held)) })),
    toTableView(routeTable('rtb-2', [])),
  ];
}

beforeEach(() => {
  ec2.reset();
  ec2.on(CreateTagsCommand).resolves({});
  ec2.on(DeleteTagsCommand).resolves({});
});

describe('writeCandidacy', () => {
  it('writes the report on every table that lacks it, in one CreateTags', async () => {
    // act
    const result = await writeCandidacy(new EC2Client({}), tables(undefined), owner, report('ready'));
    // assess
    expect(result).toEqual({ written: ['rtb-1', 'rtb-2'], reason: 'ready published' });
    expect(ec2.commandCalls(CreateTagsCommand).map((c) => c.args[0].input)).toEqual([
      { Resources: ['rtb-1', 'rtb-2'], Tags: [candidateTag(owner, report('ready'))] },
    ]);
    expect(ec2.commandCalls(DeleteTagsCommand)).toHaveLength(0);
  });

  it.each([
    ['an older report is replaced', report('ready', T - 1), report('draining'), ['rtb-1', 'rtb-2']],
    ['the same report (a replay) is left', report('ready'), report('ready'), ['rtb-2']],
    ['a newer report is never overwritten', report('draining', T + 1), report('ready'), ['rtb-2']],
    ['at the same instant, draining replaces ready', report('ready'), report('draining'), ['rtb-1', 'rtb-2']],
    ['at the same instant, ready does not replace draining', report('draining'), report('ready'), ['rtb-2']],
  ])('rtb-1 holds a report: %s', async (_name, held, next, written) => {
    // act
    const result = await writeCandidacy(new EC2Client({}), tables(held), owner, next);
    // assess
    expect(result.written).toEqual(written);
    expect(ec2.commandCalls(CreateTagsCommand).map((c) => c.args[0].input.Resources)).toEqual([written]);
  });

  it('writes nothing when every table holds this report already', async () => {
    // prepare
    const both = tables(report('ready')).map((t) => ({ ...t, tags: candidacyTags(owner, report('ready')) }));
    // act
    const result = await writeCandidacy(new EC2Client({}), both, owner, report('ready'));
    // assess
    expect(result).toEqual({ written: [], reason: 'every table already holds this report or a newer one' });
    expect(ec2.calls()).toHaveLength(0);
  });

  it('refuses a new tag on a table with 50 tags, naming it, and writes no table', async () => {
    // prepare
    const full = [toTableView(routeTable('rtb-1', [])), toTableView(routeTable('rtb-2', [], otherTags(50)))];
    // act
    const writing = writeCandidacy(new EC2Client({}), full, owner, report('ready'));
    // assess
    await expect(writing).rejects.toThrow(PermanentError);
    await expect(writing).rejects.toThrow(
      `route table rtb-2 already has 50 tags, the EC2 limit; cannot publish the candidacy of portlb/lb-${nodeA.instanceId}`,
    );
    expect(ec2.calls()).toHaveLength(0);
  });

  it('overwrites its own tag on a full table: that needs no room', async () => {
    // act
    const result = await writeCandidacy(
      new EC2Client({}),
      tables(report('ready', T - 1), 49),
      owner,
      report('ready'),
    );
    // assess
    expect(result.written).toEqual(['rtb-1', 'rtb-2']);
  });

  it.each([
    ['an older report: its tag is deleted', report('ready', T - 1), ['rtb-1'], 'gone: candidacy removed'],
    ['a newer report: it stays', report('ready', T + 1), [], 'no table holds a report of this pod'],
    ['nothing: no call', undefined, [], 'no table holds a report of this pod'],
  ])('gone, where rtb-1 holds %s', async (_name, held, deleted, reason) => {
    // act
    const result = await writeCandidacy(new EC2Client({}), tables(held), owner, report('gone'));
    // assess
    expect(result).toEqual({ written: deleted, reason });
    expect(ec2.commandCalls(DeleteTagsCommand).map((c) => c.args[0].input)).toEqual(
      deleted.length === 0
        ? []
        : [{ Resources: deleted, Tags: [{ Key: candidateTag(owner, report('gone')).Key }] }],
    );
    expect(ec2.commandCalls(CreateTagsCommand)).toHaveLength(0);
  });
});
