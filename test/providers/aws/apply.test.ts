import {
  CreateRouteCommand,
  DeleteRouteCommand,
  DescribeRouteTablesCommand,
  EC2ServiceException,
  ReplaceRouteCommand,
} from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import type { Change } from '../../../src/core/model.js';
import { applyRouteChanges } from '../../../src/providers/aws/apply.js';
import type { Ec2Port } from '../../../src/providers/aws/port.js';
import { describeTables } from '../../../src/providers/aws/tables.js';

type Command = { constructor: { name: string }; input: Record<string, unknown> };
type Answer = (command: Command) => unknown;

/** A scripted port: records commands, answers from a list of functions (throw to fail). */
function scripted(...answers: Answer[]): { port: Ec2Port; sent: Command[] } {
  const sent: Command[] = [];
  const port = {
    send: async (command: Command) => {
      sent.push(command);
      const answer = answers.shift();
      if (answer === undefined) throw new Error(`unexpected ${command.constructor.name}`);
      return answer(command);
    },
  } as unknown as Ec2Port;
  return { port, sent };
}

const fail =
  (name: string, message = name) =>
  () => {
    throw new EC2ServiceException({ name, message, $fault: 'client', $metadata: { httpStatusCode: 400 } });
  };
const ok = () => ({});
const tableWith = (route: Record<string, string>) => () => ({
  RouteTables: [{ RouteTableId: 'rtb-1', VpcId: 'vpc-1', Routes: [route], Tags: [] }],
});

const create: Change = {
  kind: 'create',
  table: 'rtb-1',
  vip: '192.0.2.0/24',
  target: 'eni-b',
  reason: { code: 'no_route' },
};
const replace: Change = {
  kind: 'replace',
  table: 'rtb-1',
  vip: '192.0.2.0/24',
  from: 'eni-a',
  target: 'eni-b',
  reason: { code: 'unhealthy' },
};
const remove: Change = {
  kind: 'delete',
  table: 'rtb-1',
  vip: '192.0.2.0/24',
  target: 'eni-a',
  reason: { code: 'not_desired' },
};
const names = (sent: Command[]) => sent.map((c) => c.constructor.name.replace(/Command$/, ''));

describe('applyRouteChanges', () => {
  it('replaces with one call, targeting the ENI', async () => {
    const { port, sent } = scripted(ok);
    const [result] = await applyRouteChanges(port, [replace]);
    expect(result?.error).toBeUndefined();
    expect(sent[0]).toBeInstanceOf(ReplaceRouteCommand);
    expect(sent[0]?.input).toEqual({
      RouteTableId: 'rtb-1',
      DestinationCidrBlock: '192.0.2.0/24',
      NetworkInterfaceId: 'eni-b',
    });
  });

  it('falls back to CreateRoute when ReplaceRoute finds no route', async () => {
    const { port, sent } = scripted(
      fail('InvalidParameterValue', "There is no route defined for '192.0.2.0/24' in the route table."),
      ok,
    );
    const [result] = await applyRouteChanges(port, [replace]);
    expect(result?.error).toBeUndefined();
    expect(names(sent)).toEqual(['ReplaceRoute', 'CreateRoute']);
  });

  it('does not mistake another InvalidParameterValue for a missing route', async () => {
    const { port, sent } = scripted(
      fail('InvalidParameterValue', 'route table and network interface are in different VPCs'),
    );
    const [result] = await applyRouteChanges(port, [replace]);
    expect(String(result?.error)).toMatch(/different VPCs/);
    expect(names(sent)).toEqual(['ReplaceRoute']);
  });

  it.each([
    [
      'our route to another ENI: replaced',
      { DestinationCidrBlock: '192.0.2.0/24', NetworkInterfaceId: 'eni-a', State: 'active' },
      ['CreateRoute', 'DescribeRouteTables', 'ReplaceRoute'],
      undefined,
    ],
    [
      'already right: done',
      { DestinationCidrBlock: '192.0.2.0/24', NetworkInterfaceId: 'eni-b', State: 'active' },
      ['CreateRoute', 'DescribeRouteTables'],
      undefined,
    ],
    [
      'a blackhole to the same ENI: replaced',
      { DestinationCidrBlock: '192.0.2.0/24', NetworkInterfaceId: 'eni-b', State: 'blackhole' },
      ['CreateRoute', 'DescribeRouteTables', 'ReplaceRoute'],
      undefined,
    ],
    [
      "someone else's gateway: refused",
      { DestinationCidrBlock: '192.0.2.0/24', GatewayId: 'igw-1', State: 'active' },
      ['CreateRoute', 'DescribeRouteTables'],
      /igw-1, which portlb does not own/,
    ],
  ])('on RouteAlreadyExists re-reads the table; %s', async (_name, route, calls, error) => {
    const { port, sent } = scripted(fail('RouteAlreadyExists'), tableWith(route), ok);
    const [result] = await applyRouteChanges(port, [create]);
    expect(names(sent)).toEqual(calls);
    if (error) expect(String(result?.error)).toMatch(error);
    else expect(result?.error).toBeUndefined();
  });

  it('treats deleting a missing route as done', async () => {
    const { port } = scripted(fail('InvalidRoute.NotFound'));
    const [result] = await applyRouteChanges(port, [remove]);
    expect(result?.error).toBeUndefined();
  });

  it('uses the IPv6 destination field for IPv6 VIPs', async () => {
    const { port, sent } = scripted(ok);
    await applyRouteChanges(port, [{ ...create, vip: '2001:db8::/64' }]);
    expect(sent[0]).toBeInstanceOf(CreateRouteCommand);
    expect(sent[0]?.input).toMatchObject({ DestinationIpv6CidrBlock: '2001:db8::/64' });
  });

  it('reports every failure per change and keeps going', async () => {
    const { port, sent } = scripted(fail('UnauthorizedOperation'), ok);
    const results = await applyRouteChanges(port, [replace, { ...remove, vip: '198.51.100.0/24' }], {
      concurrency: 1,
    });
    expect(String(results[0]?.error)).toMatch(/grant ec2:ReplaceRoute/);
    expect(results[1]?.error).toBeUndefined();
    expect(sent[1]).toBeInstanceOf(DeleteRouteCommand);
    expect(sent[1]?.input).toEqual({ RouteTableId: 'rtb-1', DestinationCidrBlock: '198.51.100.0/24' });
  });
});

describe('describeTables', () => {
  it('filters on tags only, never on route.* (moto answers those with HTTP 500)', async () => {
    const { port, sent } = scripted(() => ({
      RouteTables: [{ RouteTableId: 'rtb-1', VpcId: 'vpc-1', Routes: [], Tags: [] }],
    }));
    await describeTables(port, { tags: { 'portlb.io/managed': 'true' } });
    expect(sent[0]).toBeInstanceOf(DescribeRouteTablesCommand);
    expect(sent[0]?.input).toEqual({ Filters: [{ Name: 'tag:portlb.io/managed', Values: ['true'] }] });
  });

  it('follows NextToken pages', async () => {
    const { port, sent } = scripted(
      () => ({ RouteTables: [{ RouteTableId: 'rtb-2', Routes: [] }], NextToken: 'n' }),
      () => ({ RouteTables: [{ RouteTableId: 'rtb-1', Routes: [] }] }),
    );
    const tables = await describeTables(port, { tags: { a: 'b' } });
    expect(tables.map((t) => t.id)).toEqual(['rtb-1', 'rtb-2']);
    expect(sent[1]?.input).toMatchObject({ NextToken: 'n' });
  });
});
