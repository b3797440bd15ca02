import fc from 'fast-check';
import { stringify } from 'yaml';
import { parseEvent } from '../functions/aws/events.js';
import { parseCloudEvent } from '../functions/gcp/events.js';
import { parseYaml } from '../src/config/yaml.js';
import { ConfigError } from '../src/errors.js';
import { parseApiLine } from '../src/providers/bgp/protocol.js';
import { parseRoutes } from '../src/providers/file.js';
import { parseAnnotations } from '../src/sources/kubernetes/annotations.js';
import { brokenAnnotations, validAnnotations } from './annotation-arbitraries.js';
import { anyInput, brokenEvent, validEvent } from './event-arbitraries.js';
import { brokenGcpEvent, pubsubEvent, validGcpEvent } from './gcp-event-arbitraries.js';
import { hostileText, mutatedText } from './mutate-text.js';
import { brokenRoutes, MODES, type ModeRoutes, validRoutes } from './routes-arbitraries.js';

/*
 * The boundaries besides the config, for the fuzz script: the EventBridge and Pub/Sub event
 * parsers, the observed-routes file (in process, and through `portlb plan --observed`), the LB pod
 * annotations and exabgp's API lines. Each case says what the parser must do with it: accept,
 * refuse, or either (random input); a throw, or a verdict the other way, is a failure.
 */

export type Expect = 'accept' | 'refuse' | 'either';

export interface EdgeCase {
  readonly edge: string;
  readonly expect: Expect;
  readonly kind: string;
  /** Runs the parser: true when it accepted. */
  readonly run: () => boolean;
  /** What to write to bench-out/fuzz when it fails. */
  readonly input: () => string;
}

function show(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

const rules = new Map(MODES.map((m) => [m, { tables: m.tables, target: m.target }]));
const rulesOf = (m: ModeRoutes) => rules.get(m)!;

/** YAML text through the reader `plan --observed` uses: a ConfigError is a refusal. */
function routesText(text: string | Uint8Array, m: ModeRoutes): boolean {
  try {
    const document = parseYaml(typeof text === 'string' ? text : new TextDecoder().decode(text), 'fuzz');
    return parseRoutes(document, rulesOf(m)).ok;
  } catch (error) {
    if (error instanceof ConfigError) return false;
    throw error;
  }
}

/** A routes file for the CLI: its mode, the text, and what `plan --observed` must exit with. */
export interface RoutesFile {
  readonly mode: ModeRoutes['mode'];
  readonly kind: string;
  readonly content: string | Uint8Array;
  readonly exit: 0 | 2 | 'either';
}

export const routesFile: fc.Arbitrary<RoutesFile> = fc.oneof(
  validRoutes.map(({ mode, routes }) => ({
    mode: mode.mode,
    kind: 'valid',
    content: stringify(routes),
    exit: 0 as const,
  })),
  brokenRoutes.map((b) => ({
    mode: b.mode.mode,
    kind: b.what,
    content: stringify(b.document),
    exit: 2 as const,
  })),
  validRoutes.chain(({ mode, routes }) =>
    mutatedText(stringify(routes)).map((content) => ({
      mode: mode.mode,
      kind: 'text edits',
      content,
      exit: 'either' as const,
    })),
  ),
  fc.tuple(fc.constantFrom(...MODES), hostileText).map(([mode, content]) => ({
    mode: mode.mode,
    kind: 'hostile',
    content,
    exit: 'either' as const,
  })),
);

/** The configs `plan --observed` runs with, one per mode (their tables and targets match MODES). */
export const PLAN_CONFIGS: Readonly<Record<ModeRoutes['mode'], string>> = {
  bgp: 'examples/bgp-lab.yaml',
  aws: [
    'mode: aws',
    'allowedVipPools: [10.0.0.0/8]',
    'services: [{ name: web, vip: 10.1.1.0/24, ports: [{ port: 80 }], backends: { static: [{ address: 192.168.0.10, port: 80 }] } }]',
    'targets: [{ node: lb-1, address: 172.16.0.11, cloudTarget: eni-0123456789abcdef0 }]',
    'aws: { region: us-east-1, routeTables: { ids: [rtb-0123456789abcdef0, rtb-01234567] } }',
  ].join('\n'),
  gcp: [
    'mode: gcp',
    'allowedVipPools: [10.0.0.0/8]',
    'services: [{ name: web, vip: 10.1.1.0/24, ports: [{ port: 80 }], backends: { static: [{ address: 192.168.0.10, port: 80 }] } }]',
    'targets: [{ node: lb-1, address: 172.16.0.11, cloudTarget: projects/portlb-test/zones/europe-west1-b/instances/lb-1 }]',
    'gcp: { project: portlb-test, network: vpc }',
  ].join('\n'),
};

const junkLine = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc
    .record({
      type: fc.constantFrom('state', 'notification', 'update', 7),
      neighbor: fc.anything(),
      notification: fc.string(),
    })
    .map((v) => JSON.stringify(v)),
);

/** One batch of cases for every edge but the config, from one seed. */
export function edgeCases(seed: number): EdgeCase[] {
  const sample = <T>(arb: fc.Arbitrary<T>, numRuns: number) => fc.sample(arb, { seed, numRuns });
  const cases: EdgeCase[] = [];
  const add = (edge: string, expect: Expect, kind: string, run: () => boolean, input: unknown) =>
    cases.push({ edge, expect, kind, run, input: () => show(input) });

  for (const v of sample(validEvent, 20))
    add('EventBridge', 'accept', v.kind, () => parseEvent(v.event).ok, v.event);
  for (const e of sample(brokenEvent, 60)) add('EventBridge', 'refuse', 'broken', () => parseEvent(e).ok, e);
  for (const v of sample(validGcpEvent, 20))
    add('Pub/Sub', 'accept', v.kind, () => parseCloudEvent(v.event).ok, v.event);
  for (const b of sample(brokenGcpEvent, 60))
    add('Pub/Sub', 'refuse', b.what, () => parseCloudEvent(b.event).ok, b.event);
  for (const input of sample(anyInput, 60)) {
    add('EventBridge', 'either', 'anything', () => parseEvent(input).ok, input);
    add('Pub/Sub', 'either', 'anything', () => parseCloudEvent(input).ok, input);
    let message: unknown;
    try {
      message = pubsubEvent(input, '1', '2026-12-01T08:00:00Z');
    } catch {
      message = undefined; // not JSON at all: no message carries it
    }
    if (message !== undefined)
      add('Pub/Sub', 'either', 'anything as payload', () => parseCloudEvent(message).ok, message);
    const m = MODES[cases.length % MODES.length]!;
    add('routes', 'either', 'anything', () => parseRoutes(input, rulesOf(m)).ok, input);
  }
  for (const v of sample(validRoutes, 20))
    add(
      'routes',
      'accept',
      `valid ${v.mode.mode}`,
      () => parseRoutes(v.routes, rulesOf(v.mode)).ok,
      v.routes,
    );
  for (const b of sample(brokenRoutes, 40))
    add('routes', 'refuse', b.what, () => parseRoutes(b.document, rulesOf(b.mode)).ok, b.document);
  for (const f of sample(routesFile, 40)) {
    const m = MODES.find((x) => x.mode === f.mode)!;
    const expect: Expect = f.exit === 0 ? 'accept' : f.exit === 2 ? 'refuse' : 'either';
    add('routes', expect, f.kind, () => routesText(f.content, m), f.content);
  }
  for (const v of sample(validAnnotations, 20))
    add('annotations', 'accept', 'valid', () => parseAnnotations(v.annotations, v.known).ok, v.annotations);
  for (const b of sample(brokenAnnotations, 40))
    add('annotations', 'refuse', b.what, () => parseAnnotations(b.annotations, b.known).ok, b.annotations);
  for (const d of sample(
    fc.dictionary(
      fc.oneof(
        fc.string(),
        fc.string().map((s) => `portlb.io/${s}`),
      ),
      fc.string(),
    ),
    40,
  ))
    add('annotations', 'either', 'random', () => parseAnnotations(d, ['web', 'api']).ok, d);
  for (const line of sample(junkLine, 60))
    add('exabgp', 'either', 'line', () => parseApiLine(line)?.kind !== 'malformed', line);
  return cases;
}
