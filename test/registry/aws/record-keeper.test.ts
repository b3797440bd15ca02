import { CreateTagsCommand, DeleteTagsCommand, EC2Client, type Route } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { PermanentError } from '../../../src/errors.js';
import { toTableView } from '../../../src/providers/aws/tables.js';
import { createRecordKeeper } from '../../../src/registry/aws/record-keeper.js';
import { recordKey } from '../../../src/registry/aws/records.js';
import { silentLogger } from '../../../src/runtime/logger.js';
import {
  ec2Failure,
  nodeA,
  nodeB,
  otherTags,
  RETIRED,
  recordTags,
  route,
  routeTable,
  STRANGER,
  V1,
  V2,
} from '../../fixtures/aws/ec2.js';
import { change } from '../../fixtures/changes.js';
import { capturedLogs } from '../../fixtures/logs.js';

const ec2 = mockClient(EC2Client);
const owner = 'portlb';
const lbTargets = new Set([nodeA.eni, nodeA.instanceId, nodeB.eni, nodeB.instanceId]);

function keeper(logger = silentLogger()) {
  return createRecordKeeper({ ec2: new EC2Client({}), owner, vips: new Set([V1, V2]), logger });
}

const view = (id: string, routes: readonly Route[], tags: Record<string, string> = {}) =>
  toTableView(routeTable(id, routes, tags));

/** The key of the one record tag that holds exactly these VIPs. */
const keyOf = (...vips: string[]) => recordKey(owner, [...vips].sort().join(' '));

/** The record writes made, in order: `CreateTags tables vips|vips` (the values), `DeleteTags tables keys`. */
function writes(): string[] {
  return ec2.calls().map((c) => {
    const command = c.args[0];
    const input = command.input as { Resources: string[]; Tags: { Key: string; Value?: string }[] };
    const tables = input.Resources.join(',');
    if (command instanceof CreateTagsCommand)
      return `CreateTags ${tables} ${input.Tags.map((t) => t.Value).join('|')}`;
    return `DeleteTags ${tables} ${input.Tags.map((t) => t.Key).join('|')}`;
  });
}

beforeEach(() => {
  ec2.reset();
  ec2.on(CreateTagsCommand).resolves({});
  ec2.on(DeleteTagsCommand).resolves({});
});

describe('record keeper: load', () => {
  it.each([
    ['to an LB ENI', route.toEni(V1, nodeA.eni), [`CreateTags rtb-1 ${V1}`], [V1]],
    [
      "to an ENI no LB published (a configured VIP's route is portlb's)",
      route.toEni(V1, STRANGER),
      [`CreateTags rtb-1 ${V1}`],
      [V1],
    ],
    ['a blackhole', route.blackhole(V1), [`CreateTags rtb-1 ${V1}`], [V1]],
    ["to a gateway: someone else's, not recorded", route.toGateway(V1), [], []],
  ])('a route of a configured VIP with no record, %s', async (_name, found, expected, recorded) => {
    // prepare
    const records = keeper();
    // act
    await records.load([view('rtb-1', [found])], lbTargets);
    // assess
    expect(writes()).toEqual(expected);
    expect([...records.recorded('rtb-1')]).toEqual(recorded);
  });

  it('records the same routes on several tables in one CreateTags, keyed by the hash of the value', async () => {
    // act
    await keeper().load(
      [view('rtb-1', [route.toEni(V1, nodeA.eni)]), view('rtb-2', [route.toEni(V1, nodeB.eni)])],
      lbTargets,
    );
    // assess
    expect(ec2.commandCalls(CreateTagsCommand).map((c) => c.args[0].input)).toEqual([
      { Resources: ['rtb-1', 'rtb-2'], Tags: [{ Key: recordKey(owner, V1), Value: V1 }] },
    ]);
    expect(ec2.commandCalls(DeleteTagsCommand)).toHaveLength(0);
  });

  it.each([
    [
      'a retired VIP now routed to an ENI no LB published',
      [RETIRED],
      route.toEni(RETIRED, STRANGER),
      [`DeleteTags rtb-1 ${keyOf(RETIRED)}`],
      [],
    ],
    [
      'a configured VIP now routed to a gateway',
      [V1],
      route.toGateway(V1),
      [`DeleteTags rtb-1 ${keyOf(V1)}`],
      [],
    ],
    [
      'one of two VIPs in a record: the rest is written anew before the old tag goes',
      [V1, RETIRED],
      route.toEni(RETIRED, STRANGER),
      [`CreateTags rtb-1 ${V1}`, `DeleteTags rtb-1 ${keyOf(V1, RETIRED)}`],
      [V1],
    ],
  ])(
    'drops the record of a destination someone else now routes: %s',
    async (_name, held, found, expected, left) => {
      // prepare
      const records = keeper();
      // act
      await records.load([view('rtb-1', [found], recordTags(held))], lbTargets);
      // assess
      expect(writes()).toEqual(expected);
      expect([...records.recorded('rtb-1')]).toEqual(left);
    },
  );

  it('writes nothing in steady state', async () => {
    // prepare: recorded routes (one retired but still to an LB), a recorded VIP whose route is
    // gone, a configured VIP with no route yet, and a route portlb has nothing to do with
    const tags = { ...recordTags([V1, RETIRED, '100.64.1.0/24']), Name: 'main' };
    const routes = [
      route.toEni(V1, nodeA.eni),
      route.toEni(RETIRED, nodeB.eni),
      route.toEni('100.64.9.0/24', STRANGER),
    ];
    const records = keeper();
    // act
    await records.load([view('rtb-1', routes, tags)], lbTargets);
    // assess
    expect(ec2.calls()).toHaveLength(0);
    expect([...records.recorded('rtb-1')].sort()).toEqual(['100.64.1.0/24', V1, RETIRED]);
    expect(records.recorded('rtb-unknown').size).toBe(0);
  });

  it.each([
    [49, [`CreateTags rtb-1 ${V1}`, `CreateTags rtb-2 ${V2}`], []],
    [
      50,
      [`CreateTags rtb-2 ${V2}`],
      [
        /route table rtb-1 has 50 tags and recording its existing routes needs 1 more before 0 can go \(51 > 50, the EC2 limit per resource\)/,
      ],
    ],
  ])(
    'a table with %i tags: a record that would pass 50 is refused with a warning; the other table is written',
    async (count, expected, warnings) => {
      // prepare
      const { logger, events } = capturedLogs();
      const records = keeper(logger);
      // act
      await records.load(
        [
          view('rtb-1', [route.toEni(V1, nodeA.eni)], otherTags(count)),
          view('rtb-2', [route.toEni(V2, nodeA.eni)]),
        ],
        lbTargets,
      );
      // assess
      expect(writes().sort()).toEqual(expected);
      const refused = events('route_record_refused');
      expect(refused.map((l) => l.msg)).toEqual(warnings.map((w) => expect.stringMatching(w)));
      expect(refused.every((l) => l.level === 'warn' && l.table === 'rtb-1')).toBe(true);
      expect(records.recorded('rtb-1').has(V1)).toBe(count < 50);
    },
  );

  it('warns about an unreadable record and never trusts it', async () => {
    // prepare
    const { logger, events } = capturedLogs();
    const bad = { 'portlb.io/routes/portlb/aaaaaaaaaaaa': '10.1.1.5/24' };
    const records = keeper(logger);
    // act
    await records.load([view('rtb-1', [route.toEni(V1, nodeA.eni)], bad)], lbTargets);
    // assess
    expect(events('bad_route_record')).toEqual([
      expect.objectContaining({ level: 'warn', table: 'rtb-1', key: 'portlb.io/routes/portlb/aaaaaaaaaaaa' }),
    ]);
    expect(writes()).toEqual([`CreateTags rtb-1 ${V1}`]);
  });

  it('keeps the records of a table whose write failed, and says which; the other table is written', async () => {
    // prepare
    ec2.on(CreateTagsCommand, { Resources: ['rtb-2'] }).rejects(ec2Failure.denied('CreateTags'));
    const { logger, events } = capturedLogs();
    const records = keeper(logger);
    // act
    await records.load(
      [view('rtb-1', [route.toEni(V1, nodeA.eni)]), view('rtb-2', [route.toEni(V2, nodeA.eni)])],
      lbTargets,
    );
    // assess
    expect([...records.recorded('rtb-1')]).toEqual([V1]);
    expect(records.recorded('rtb-2').size).toBe(0);
    expect(events('route_record_failed')).toEqual([
      expect.objectContaining({
        level: 'warn',
        table: 'rtb-2',
        err: expect.stringMatching(/grant ec2:CreateTags/),
      }),
    ]);
    expect(events('route_records')).toEqual([
      expect.objectContaining({ table: 'rtb-1', added: 1, removed: 0 }),
    ]);
  });
});

describe('record keeper: before', () => {
  it('records the VIPs about to get a route, in one call for the tables alike, and refuses nothing', async () => {
    // prepare
    const records = keeper();
    await records.load([view('rtb-1', []), view('rtb-2', [])], lbTargets);
    // act
    const refused = await records.before([
      change.create('rtb-1', V1, nodeA.eni),
      change.create('rtb-2', V1, nodeA.eni),
    ]);
    // assess
    expect(refused.size).toBe(0);
    expect(writes()).toEqual([`CreateTags rtb-1,rtb-2 ${V1}`]);
    expect([...records.recorded('rtb-2')]).toEqual([V1]);
  });

  it('merges a new VIP into a small record: the new tag in before the old one out', async () => {
    // prepare
    const records = keeper();
    await records.load([view('rtb-1', [route.toEni(V1, nodeA.eni)], recordTags([V1]))], lbTargets);
    // act
    await records.before([change.create('rtb-1', V2, nodeA.eni)]);
    // assess
    expect(writes()).toEqual([`CreateTags rtb-1 ${V1} ${V2}`, `DeleteTags rtb-1 ${keyOf(V1)}`]);
    expect([...records.recorded('rtb-1')].sort()).toEqual([V1, V2]);
  });

  it('writes nothing for a VIP already recorded (a crash after the record was written)', async () => {
    // prepare
    const records = keeper();
    await records.load([view('rtb-1', [], recordTags([V1]))], lbTargets);
    // act
    const refused = await records.before([change.create('rtb-1', V1, nodeA.eni)]);
    // assess
    expect(refused.size).toBe(0);
    expect(ec2.calls()).toHaveLength(0);
  });

  it.each([
    [49, undefined],
    [
      50,
      /route table rtb-1 has 50 tags and recording the routes of 192\.0\.2\.0\/24 needs 1 more before 0 can go \(51 > 50, the EC2 limit per resource\)/,
    ],
  ])(
    'a table with %i tags: creates that would pass 50 are refused, naming the numbers',
    async (count, message) => {
      // prepare
      const records = keeper();
      await records.load([view('rtb-1', [], otherTags(count))], lbTargets);
      // act
      const refused = await records.before([change.create('rtb-1', V1, nodeA.eni)]);
      // assess
      if (message === undefined) {
        expect(refused.size).toBe(0);
        expect(writes()).toEqual([`CreateTags rtb-1 ${V1}`]);
      } else {
        expect(refused.get('rtb-1')).toBeInstanceOf(PermanentError);
        expect(String(refused.get('rtb-1'))).toMatch(message);
        expect(ec2.calls()).toHaveLength(0);
      }
    },
  );

  it('needs no room for replaces and deletes on a full table', async () => {
    // prepare: 50 tags, two of them records
    const tags = { ...otherTags(48), ...recordTags([V1]), ...recordTags([RETIRED]) };
    const records = keeper();
    await records.load(
      [view('rtb-1', [route.toEni(V1, nodeA.eni), route.toEni(RETIRED, nodeA.eni)], tags)],
      lbTargets,
    );
    // act
    const refused = await records.before([
      change.replace('rtb-1', V1, nodeA.eni, nodeB.eni),
      change.remove('rtb-1', RETIRED, nodeA.eni),
    ]);
    // assess
    expect(refused.size).toBe(0);
    expect(ec2.calls()).toHaveLength(0);
  });

  it('names only the creates it refuses, not the deletes beside them that go ahead', async () => {
    // prepare: 50 tags, one of them the record of the retired VIP
    const records = keeper();
    await records.load(
      [view('rtb-1', [route.toEni(RETIRED, nodeA.eni)], { ...otherTags(49), ...recordTags([RETIRED]) })],
      lbTargets,
    );
    // act
    const refused = await records.before([
      change.create('rtb-1', V1, nodeA.eni),
      change.remove('rtb-1', RETIRED, nodeA.eni),
    ]);
    // assess
    expect(String(refused.get('rtb-1'))).toMatch(
      /route table rtb-1 has 50 tags and recording the routes of 192\.0\.2\.0\/24 needs 1 more before 1 can go \(51 > 50, the EC2 limit per resource\)/,
    );
  });

  it('refuses the creates of a table whose record write failed, with the error; the other table is recorded', async () => {
    // prepare
    ec2.on(CreateTagsCommand, { Resources: ['rtb-2'] }).rejects(ec2Failure.denied('CreateTags'));
    const records = keeper();
    await records.load([view('rtb-1', []), view('rtb-2', [])], lbTargets);
    // act
    const refused = await records.before([
      change.create('rtb-1', V1, nodeA.eni),
      change.create('rtb-2', V2, nodeA.eni),
    ]);
    // assess
    expect([...refused.keys()]).toEqual(['rtb-2']);
    expect(String(refused.get('rtb-2'))).toMatch(/ec2:CreateTags on rtb-2 is not permitted/);
    expect([...records.recorded('rtb-1')]).toEqual([V1]);
    expect(records.recorded('rtb-2').size).toBe(0);
  });
});

describe('record keeper: after', () => {
  it('drops the records of deleted routes: the rest in before the old tag out', async () => {
    // prepare
    const records = keeper();
    await records.load([view('rtb-1', [route.toEni(V1, nodeA.eni)], recordTags([V1, RETIRED]))], lbTargets);
    // act
    const failed = await records.after([{ change: change.remove('rtb-1', RETIRED, nodeA.eni) }]);
    // assess
    expect(failed.size).toBe(0);
    expect(writes()).toEqual([`CreateTags rtb-1 ${V1}`, `DeleteTags rtb-1 ${keyOf(V1, RETIRED)}`]);
    expect([...records.recorded('rtb-1')]).toEqual([V1]);
  });

  it('keeps the record of a route whose delete failed, and ignores creates and replaces', async () => {
    // prepare
    const records = keeper();
    await records.load([view('rtb-1', [route.toEni(V1, nodeA.eni)], recordTags([V1, RETIRED]))], lbTargets);
    // act
    const failed = await records.after([
      { change: change.remove('rtb-1', RETIRED, nodeA.eni), error: new PermanentError('DeleteRoute denied') },
      { change: change.replace('rtb-1', V1, nodeA.eni, nodeB.eni) },
      { change: change.create('rtb-1', V2, nodeA.eni) },
    ]);
    // assess
    expect(failed.size).toBe(0);
    expect(ec2.calls()).toHaveLength(0);
    expect([...records.recorded('rtb-1')].sort()).toEqual([V1, RETIRED]);
  });

  it.each([
    [
      'with room, puts the rest in first',
      10,
      [`CreateTags rtb-1 ${V1}`, `DeleteTags rtb-1 ${keyOf(V1, RETIRED)}`],
    ],
    [
      'on a full table, takes the old record out first',
      49,
      [`DeleteTags rtb-1 ${keyOf(V1, RETIRED)}`, `CreateTags rtb-1 ${V1}`],
    ],
  ])('%s', async (_name, others, expected) => {
    // prepare
    const records = keeper();
    const tags = { ...otherTags(others), ...recordTags([V1, RETIRED]) };
    await records.load([view('rtb-1', [route.toEni(V1, nodeA.eni)], tags)], lbTargets);
    // act
    await records.after([{ change: change.remove('rtb-1', RETIRED, nodeA.eni) }]);
    // assess
    expect(writes()).toEqual(expected);
  });

  it('says which tables could not drop their records; the others are updated', async () => {
    // prepare
    ec2.on(DeleteTagsCommand, { Resources: ['rtb-1'] }).rejects(ec2Failure.denied('DeleteTags'));
    const records = keeper();
    await records.load(
      [
        view('rtb-1', [], recordTags([RETIRED])),
        view('rtb-2', [route.toEni(V2, nodeA.eni)], recordTags([V2, RETIRED])),
      ],
      lbTargets,
    );
    // act
    const failed = await records.after([
      { change: change.remove('rtb-1', RETIRED, nodeA.eni) },
      { change: change.remove('rtb-2', RETIRED, nodeA.eni) },
    ]);
    // assess
    expect([...failed.keys()]).toEqual(['rtb-1']);
    expect(String(failed.get('rtb-1'))).toMatch(/grant ec2:DeleteTags/);
    expect([...records.recorded('rtb-1')]).toEqual([RETIRED]);
    expect([...records.recorded('rtb-2')]).toEqual([V2]);
  });
});
