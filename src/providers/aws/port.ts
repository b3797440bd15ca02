import type { EC2Client } from '@aws-sdk/client-ec2';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';

/**
 * The only part of the EC2 client portlb uses. Adapters take this, never an `EC2Client`, so tests
 * hand in moto-backed clients, counting wrappers or fault-injecting layers, and only the
 * composition roots (the sidecar's mode factory, the Lambda handlers) build a real client.
 */
export type Ec2Port = Pick<EC2Client, 'send'>;

/** The part of the EventBridge client the least-privilege sidecar uses to publish its lifecycle. */
export type EventsPort = Pick<EventBridgeClient, 'send'>;
