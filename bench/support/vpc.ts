import {
  CreateRouteTableCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DescribeRouteTablesCommand,
  type EC2Client,
  RunInstancesCommand,
} from '@aws-sdk/client-ec2';

/** A VPC with a subnet, route tables and LB node instances (each with its primary ENI), built in moto. */
export interface VpcFixture {
  readonly vpcId: string;
  readonly cidr: string;
  readonly subnetId: string;
  readonly tables: readonly string[];
  readonly nodes: readonly { readonly instanceId: string; readonly eni: string; readonly ip: string }[];
}

export const MANAGED_TAG = { key: 'portlb.io/managed', value: 'true' } as const;

export async function buildVpc(
  ec2: Pick<EC2Client, 'send'>,
  options: { tables: number; nodes: number; cidr?: string; tagTables?: boolean },
): Promise<VpcFixture> {
  const cidr = options.cidr ?? '10.0.0.0/16';
  const vpc = await ec2.send(new CreateVpcCommand({ CidrBlock: cidr }));
  const vpcId = vpc.Vpc?.VpcId ?? '';
  const subnet = await ec2.send(
    new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: cidr.replace(/\.0\.0\/16$/, '.1.0/24') }),
  );
  const tables: string[] = [];
  for (let i = 0; i < options.tables; i++) {
    const table = await ec2.send(
      new CreateRouteTableCommand({
        VpcId: vpcId,
        ...(options.tagTables !== false && {
          TagSpecifications: [
            { ResourceType: 'route-table', Tags: [{ Key: MANAGED_TAG.key, Value: MANAGED_TAG.value }] },
          ],
        }),
      }),
    );
    tables.push(table.RouteTable?.RouteTableId ?? '');
  }
  const run = await ec2.send(
    new RunInstancesCommand({
      ImageId: 'ami-12345678',
      MinCount: options.nodes,
      MaxCount: options.nodes,
      SubnetId: subnet.Subnet?.SubnetId ?? '',
    }),
  );
  const nodes = (run.Instances ?? []).map((i) => ({
    instanceId: i.InstanceId ?? '',
    eni: i.NetworkInterfaces?.[0]?.NetworkInterfaceId ?? '',
    ip: i.PrivateIpAddress ?? '',
  }));
  return { vpcId, cidr, subnetId: subnet.Subnet?.SubnetId ?? '', tables, nodes };
}

/** Every route of a table as `destination -> target (state)`, for assertions. */
export async function routeMap(ec2: Pick<EC2Client, 'send'>, table: string): Promise<Map<string, string>> {
  const answer = await ec2.send(new DescribeRouteTablesCommand({ RouteTableIds: [table] }));
  const map = new Map<string, string>();
  for (const route of answer.RouteTables?.[0]?.Routes ?? []) {
    const destination = route.DestinationCidrBlock ?? route.DestinationIpv6CidrBlock ?? '';
    map.set(destination, route.NetworkInterfaceId ?? route.InstanceId ?? route.GatewayId ?? '');
  }
  return map;
}
