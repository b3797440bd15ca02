import type { EC2Client } from '@aws-sdk/client-ec2';

export type CallListener = (action: string, outcome: 'ok' | 'error') => void;

/**
 * Counts every EC2 API call a client makes (one per command, retries not counted twice), through
 * the SDK's middleware stack so the port stays the plain client. Feeds the `portlb_aws_api_calls_total`
 * metric and the benchmark's call counts.
 */
export function countCalls(client: EC2Client, listener: CallListener): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const action = (context.commandName ?? 'Unknown').replace(/Command$/, '');
      try {
        const output = await next(args);
        listener(action, 'ok');
        return output;
      } catch (error) {
        listener(action, 'error');
        throw error;
      }
    },
    { step: 'initialize', name: 'portlbCountCalls' },
  );
}
