import { CreateTagsCommand, DeleteTagsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { writeRecordSteps } from '../../../src/registry/aws/record-store.js';
import { ec2Failure } from '../../fixtures/aws/ec2.js';

const ec2 = mockClient(EC2Client);
const tag = (key: string, value: string) => ({ Key: key, Value: value });

/** The order of the calls made, as `Action tables keys`. */
const calls = () =>
  ec2.calls().map((c) => {
    const input = c.args[0].input as { Resources: string[]; Tags: { Key: string }[] };
    const action = c.args[0] instanceof CreateTagsCommand ? 'CreateTags' : 'DeleteTags';
    return `${action} ${input.Resources.join(',')} ${input.Tags.map((t) => t.Key).join(',')}`;
  });

describe('writeRecordSteps', () => {
  beforeEach(() => {
    ec2.reset();
    ec2.on(CreateTagsCommand).resolves({});
    ec2.on(DeleteTagsCommand).resolves({});
  });

  it('puts the new records in before the old ones out, one call for tables that take the same tags', async () => {
    // prepare
    const step = { create: [tag('new', '192.0.2.0/24')], remove: ['old'] };
    // act
    const failed = await writeRecordSteps(new EC2Client({}), [
      { table: 'rtb-1', step },
      { table: 'rtb-2', step },
    ]);
    // assess
    expect(failed.size).toBe(0);
    expect(calls()).toEqual(['CreateTags rtb-1,rtb-2 new', 'DeleteTags rtb-1,rtb-2 old']);
  });

  it('takes the old record out first on a table marked full', async () => {
    // act
    await writeRecordSteps(new EC2Client({}), [
      {
        table: 'rtb-1',
        step: { create: [tag('smaller', '192.0.2.0/24')], remove: ['old'] },
        removeFirst: true,
      },
    ]);
    // assess
    expect(calls()).toEqual(['DeleteTags rtb-1 old', 'CreateTags rtb-1 smaller']);
  });

  it('leaves the old records of a table whose new ones could not be written, and says which', async () => {
    // prepare
    ec2.on(CreateTagsCommand, { Resources: ['rtb-2'] }).rejects(ec2Failure.denied());
    // act
    const failed = await writeRecordSteps(new EC2Client({}), [
      { table: 'rtb-1', step: { create: [tag('a', '192.0.2.0/24')], remove: ['old-1'] } },
      { table: 'rtb-2', step: { create: [tag('b', '198.51.100.0/24')], remove: ['old-2'] } },
    ]);
    // assess
    expect([...failed.keys()]).toEqual(['rtb-2']);
    expect(String(failed.get('rtb-2'))).toMatch(/grant ec2:CreateTags/);
    expect(calls().filter((c) => c.startsWith('DeleteTags'))).toEqual(['DeleteTags rtb-1 old-1']);
  });
});
