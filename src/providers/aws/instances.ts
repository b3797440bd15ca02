import {
  DescribeInstancesCommand,
  DescribeNetworkInterfacesCommand,
  type Instance,
  ModifyNetworkInterfaceAttributeCommand,
} from '@aws-sdk/client-ec2';
import { parseProviderId } from '../../core/provider-id.js';
import { ConfigError } from '../../errors.js';
import { call } from './errors.js';
import type { Ec2Port } from './port.js';

export interface EniView {
  readonly id: string;
  readonly deviceIndex: number;
  readonly sourceDestCheck: boolean;
  readonly privateIps: readonly string[];
}

export interface InstanceView {
  readonly id: string;
  /** pending | running | stopping | stopped | shutting-down | terminated */
  readonly state: string;
  readonly enis: readonly EniView[];
}

/** The instance behind a Node, from its `spec.providerID`; a ConfigError when it is not an AWS one. */
export function awsInstanceId(providerId: string): string {
  const instance = parseProviderId(providerId);
  if (instance?.cloud !== 'aws') {
    throw new ConfigError(`providerID "${providerId}" is not an AWS provider id`, [
      {
        path: 'providerID',
        message: 'expected aws:///<zone>/<instance-id>, e.g. aws:///us-east-1a/i-0abc12345678def01',
      },
    ]);
  }
  return instance.instanceId;
}

function toInstanceView(instance: Instance): InstanceView {
  return {
    id: instance.InstanceId ?? '',
    state: instance.State?.Name ?? 'unknown',
    enis: (instance.NetworkInterfaces ?? [])
      .map((n) => ({
        id: n.NetworkInterfaceId ?? '',
        deviceIndex: n.Attachment?.DeviceIndex ?? 0,
        sourceDestCheck: n.SourceDestCheck ?? true,
        privateIps: (n.PrivateIpAddresses ?? []).flatMap((a) =>
          a.PrivateIpAddress ? [a.PrivateIpAddress] : [],
        ),
      }))
      .sort((a, b) => a.deviceIndex - b.deviceIndex),
  };
}

/**
 * The instances among `ids` that exist, in one call. It filters by `instance-id` rather than
 * passing `InstanceIds`, because one unknown id would fail the whole call with
 * InvalidInstanceID.NotFound and hide the others.
 */
export async function describeInstances(
  ec2: Ec2Port,
  ids: readonly string[],
): Promise<Map<string, InstanceView>> {
  const found = new Map<string, InstanceView>();
  if (ids.length === 0) return found;
  let token: string | undefined;
  do {
    const page = await call({ action: 'DescribeInstances', resource: ids.join(', ') }, () =>
      ec2.send(
        new DescribeInstancesCommand({
          Filters: [{ Name: 'instance-id', Values: [...ids] }],
          ...(token && { NextToken: token }),
        }),
      ),
    );
    for (const reservation of page.Reservations ?? []) {
      for (const instance of reservation.Instances ?? []) {
        const view = toInstanceView(instance);
        found.set(view.id, view);
      }
    }
    token = page.NextToken;
  } while (token);
  return found;
}

/**
 * The ENI that carries the node's traffic: the one holding the node's IP when it is known (a node
 * with several ENIs), else the primary (device index 0). Routes target ENIs, never instances:
 * an InstanceId target fails on multi-ENI instances.
 */
export function nodeEni(instance: InstanceView, nodeIp?: string): EniView | undefined {
  if (nodeIp !== undefined) {
    const holding = instance.enis.find((e) => e.privateIps.includes(nodeIp));
    if (holding) return holding;
  }
  return instance.enis.find((e) => e.deviceIndex === 0) ?? instance.enis[0];
}

/** Reads SourceDestCheck of ENIs that exist among `ids` (missing ones are left out). */
export async function describeSourceDestCheck(
  ec2: Ec2Port,
  ids: readonly string[],
): Promise<Map<string, boolean>> {
  const found = new Map<string, boolean>();
  if (ids.length === 0) return found;
  const answer = await call({ action: 'DescribeNetworkInterfaces', resource: ids.join(', ') }, () =>
    ec2.send(
      new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'network-interface-id', Values: [...ids] }] }),
    ),
  );
  for (const eni of answer.NetworkInterfaces ?? []) {
    if (eni.NetworkInterfaceId) found.set(eni.NetworkInterfaceId, eni.SourceDestCheck ?? true);
  }
  return found;
}

/**
 * An ENI only forwards traffic for a VIP it does not own when SourceDestCheck is off. Callers pass
 * what they read; the write happens only when the check is on, so a repeat costs nothing.
 */
export async function turnOffSourceDestCheck(ec2: Ec2Port, eni: string, current: boolean): Promise<boolean> {
  if (!current) return false;
  await call({ action: 'ModifyNetworkInterfaceAttribute', resource: eni }, () =>
    ec2.send(
      new ModifyNetworkInterfaceAttributeCommand({
        NetworkInterfaceId: eni,
        SourceDestCheck: { Value: false },
      }),
    ),
  );
  return true;
}
