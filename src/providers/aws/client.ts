import { EC2Client } from '@aws-sdk/client-ec2';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';

export interface ClientOptions {
  readonly region?: string | undefined;
  /** Another endpoint (moto in tests, a VPC endpoint in production). */
  readonly endpoint?: string | undefined;
  readonly maxAttempts?: number | undefined;
}

/*
 * The only places real clients are built: the Lambda handlers' module scope and the sidecar's mode
 * factory import these. Region and credentials come from the usual SDK chain (env, web identity)
 * unless given. The SDK's standard retry mode already backs off on throttling; portlb maps what is
 * left over to TransientError.
 */

/**
 * Bounded calls: a hung connection must not hold a reconcile (and so a SIGTERM's withdraw and
 * Lease release) past the pod's grace period. A timeout surfaces as a transient error.
 */
const requestHandler = { connectionTimeout: 3_000, requestTimeout: 10_000 };

/** What both clients share: region and endpoint when given, retries, bounded calls. */
function clientConfig(options: ClientOptions) {
  return {
    ...(options.region && { region: options.region }),
    ...(options.endpoint && { endpoint: options.endpoint }),
    maxAttempts: options.maxAttempts ?? 5,
    requestHandler,
  };
}

export function createEc2Client(options: ClientOptions = {}): EC2Client {
  return new EC2Client(clientConfig(options));
}

export function createEventBridgeClient(options: ClientOptions = {}): EventBridgeClient {
  return new EventBridgeClient(clientConfig(options));
}
