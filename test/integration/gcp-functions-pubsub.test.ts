import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditEntry } from '../fixtures/gcp/audit-log.js';
import {
  bundleFunction,
  type Daemon,
  type FunctionBundle,
  type PubsubEmulator,
  startFunctionsFramework,
  startPubsubEmulator,
} from './gcp-harness.js';

// End to end on loopback: a message published to the real Pub/Sub emulator is pushed to the real
// Functions Framework, which hands our function (the shared handler + a logging probe dispatch,
// test/support/gcp-function/entry.ts) a CloudEvent; the function parses it.

const PROJECT = 'portlb-test';
const TOPIC = 'portlb-events';
const LB1 = `https://www.googleapis.com/compute/v1/projects/${PROJECT}/zones/europe-west1-b/instances/lb-1`;

let pubsub: PubsubEmulator;
let framework: Daemon;
let bundle: FunctionBundle;

type Line = { event?: string; messageId?: string; reason?: string; parsed?: Record<string, unknown> };
const parse = (line: string): Line => {
  try {
    return JSON.parse(line) as Line;
  } catch {
    return {};
  }
};
const lineFor = (id: string, event: string) => (line: string) => {
  const l = parse(line);
  return l.event === event && l.messageId === id;
};

beforeAll(async () => {
  bundle = await bundleFunction('test/support/gcp-function/entry.ts');
  pubsub = await startPubsubEmulator();
  framework = await startFunctionsFramework(bundle.dir, 'portlbProbe');
  // Start-up times, for the report (the run's log shows them).
  console.log(
    `pubsub emulator up in ${pubsub.startupMs} ms; functions framework up in ${framework.startupMs} ms`,
  );
  await pubsub.createTopic(PROJECT, TOPIC);
  // The push path names the topic: the framework reads it from there for the CloudEvent's source.
  await pubsub.createPushSubscription(
    PROJECT,
    `${TOPIC}-push`,
    TOPIC,
    `${framework.url}/projects/${PROJECT}/topics/${TOPIC}`,
  );
});

afterAll(async () => {
  await framework?.stop();
  await pubsub?.stop();
  await bundle?.remove();
});

describe('Pub/Sub emulator -> Functions Framework -> portlb function', () => {
  it('delivers an instances.delete audit-log entry, parsed as an instance going down', async () => {
    const id = await pubsub.publish(PROJECT, TOPIC, JSON.stringify(auditEntry({ part: 'first' })));

    const line = parse(await framework.waitForLine(lineFor(id, 'dispatched')));

    expect(line.parsed).toMatchObject({ kind: 'instance-down', id, action: 'delete', instance: LB1 });
  });

  it('ignores the last entry of the same operation with a reason', async () => {
    const id = await pubsub.publish(PROJECT, TOPIC, JSON.stringify(auditEntry({ part: 'last' })));

    const line = parse(await framework.waitForLine(lineFor(id, 'ignored')));

    expect(line.reason).toMatch(/^last entry of operation .*handled on its first entry/);
  });

  it('ignores a malformed message with a log line', async () => {
    const id = await pubsub.publish(PROJECT, TOPIC, 'this is not JSON {');

    const line = parse(await framework.waitForLine(lineFor(id, 'ignored')));

    expect(line.reason).toBe(`message ${id}: data is not JSON`);
  });

  it('redelivers a message whose handling failed transiently', async () => {
    const id = await pubsub.publish(PROJECT, TOPIC, JSON.stringify({ kind: 'portlb.sweep', version: 1 }));

    await framework.waitForLine(lineFor(id, 'retry'));
    const line = parse(await framework.waitForLine(lineFor(id, 'dispatched'), 30_000));

    expect(line.parsed).toMatchObject({ kind: 'sweep', id });
  });
});
