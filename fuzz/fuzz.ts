/**
 * `npm run fuzz -- [--seconds 60] [--seed N] [--out DIR]`: throws generated, mutated and hostile
 * configs at the shipped CLI (`portlb validate`, `plan`, `render exabgp`, one process each), and
 * observed-routes files at `portlb plan --observed`; in process, the same configs plus random and
 * broken EventBridge and Pub/Sub events, routes files, LB pod annotations and exabgp API lines at
 * their parsers, for a bounded time. It fails on any exit other than 0 or 2 (or the one a
 * well-formed or broken input must give), any stack trace on stderr, any run over 1 s, any
 * exception from a parser other than ConfigError (the event, routes, annotation and exabgp parsers
 * must not throw at all), and any verdict the wrong way (a well-formed input refused, a broken one
 * accepted). Failing inputs are written to DIR (bench-out/fuzz) with the seed that reproduces the run.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { parseConfig } from '../src/config/load.js';
import { decodeConfig } from '../src/config/text.js';
import { parseYaml } from '../src/config/yaml.js';
import { ConfigError } from '../src/errors.js';
import { shippedCli } from '../src/system/shipped.js';
import { mutation, validConfig } from './config-arbitraries.js';
import { type EdgeCase, edgeCases, PLAN_CONFIGS, type RoutesFile, routesFile } from './edges.js';
import { hostileText, mutatedText } from './mutate-text.js';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '30' },
    seed: { type: 'string' },
    out: { type: 'string', default: 'bench-out/fuzz' },
  },
});
const SECONDS = Number(args.seconds);
const SEED = args.seed === undefined ? Date.now() % 2 ** 31 : Number(args.seed);
const LIMIT_MS = 1000;
const STACK_TRACE = /^\s+at .+(\(.*:\d+:\d+\)|:\d+:\d+)$/m;

type Input = { kind: string; content: string | Uint8Array };

/** One draw: a config as YAML text (or bytes), by the way it was made. */
const configInput: fc.Arbitrary<Input> = fc.oneof(
  { weight: 2, arbitrary: validConfig.map((d) => ({ kind: 'valid', content: stringify(d) })) },
  {
    weight: 3,
    arbitrary: validConfig
      .chain(mutation)
      .map((m) => ({ kind: `mutated: ${m.what}`, content: stringify(m.document) })),
  },
  {
    weight: 4,
    arbitrary: validConfig
      .chain((d) => mutatedText(stringify(d)))
      .map((content) => ({ kind: 'text edits', content })),
  },
  { weight: 1, arbitrary: hostileText.map((content) => ({ kind: 'hostile', content })) },
);

const COMMANDS: readonly (readonly string[])[] = [
  ['validate'],
  ['validate'],
  ['validate'],
  ['plan', '--config'],
  ['render', 'exabgp', '--config'],
];

interface Failure {
  readonly where: string;
  readonly why: string;
  readonly input: Input;
}

interface Tally {
  runs: number;
  byExit: Map<string, number>;
  times: number[];
  failures: Failure[];
  slowest: { ms: number; kind: string };
}

const tally = (): Tally => ({
  runs: 0,
  byExit: new Map(),
  times: [],
  failures: [],
  slowest: { ms: 0, kind: '' },
});

function timed(t: Tally, ms: number, kind: string): void {
  t.runs++;
  t.times.push(ms);
  if (ms > t.slowest.ms) t.slowest = { ms, kind };
}

function count(t: Tally, key: string): void {
  t.byExit.set(key, (t.byExit.get(key) ?? 0) + 1);
}

const cli = shippedCli(import.meta.url);

function runCli(args: readonly string[]): Promise<{ code: number | null; stderr: string; ms: number }> {
  return new Promise((resolve) => {
    const start = performance.now();
    const child = spawn(process.execPath, [...cli.flags, cli.script, ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, NODE_NAME: 'n1', HOST_IP: '10.99.0.11', POD_IP: '10.244.0.5' },
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      if (stderr.length < 1 << 16) stderr += chunk.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 10 * LIMIT_MS);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr, ms: performance.now() - start });
    });
  });
}

/** One CLI run: the arguments before the input file, and the exit it must give when known. */
interface CliJob {
  readonly args: readonly string[];
  readonly input: Input;
  readonly exit?: number | undefined;
}

async function fuzzCli(jobs: CliJob[], dir: string, t: Tally, deadline: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < jobs.length && performance.now() < deadline) {
      const i = next++;
      const { args: command, input, exit } = jobs[i]!;
      const file = join(dir, `input-${i}.yaml`);
      await writeFile(file, input.content);
      const { code, stderr, ms } = await runCli([...command, file]);
      timed(t, ms, `${input.kind}, ${command[0]}`);
      const name = command.includes('--observed') ? 'plan --observed' : command.slice(0, 2).join(' ');
      count(t, `${name} exit ${code}`);
      const where = `portlb ${command.join(' ')}`;
      if (code !== 0 && code !== 2)
        t.failures.push({ where, why: `exit ${code}: ${stderr.slice(0, 400)}`, input });
      else if (exit !== undefined && code !== exit)
        t.failures.push({ where, why: `exit ${code}, not ${exit}: ${stderr.slice(0, 400)}`, input });
      else if (STACK_TRACE.test(stderr))
        t.failures.push({ where, why: `stack trace: ${stderr.slice(0, 400)}`, input });
      else if (ms > LIMIT_MS) t.failures.push({ where, why: `took ${ms.toFixed(0)} ms`, input });
    }
  };
  await Promise.all([worker(), worker()]); // two cores
}

/** The boundaries besides the config: a throw, a slow run or a verdict the wrong way fails. */
function fuzzEdges(cases: EdgeCase[], t: Tally): void {
  for (const c of cases) {
    const start = performance.now();
    const input = () => ({ kind: `${c.edge}: ${c.kind}`, content: c.input() });
    try {
      const accepted = c.run();
      count(t, `${c.edge} ${accepted ? 'accepted' : 'refused'}`);
      if (c.expect !== 'either' && accepted !== (c.expect === 'accept'))
        t.failures.push({
          where: c.edge,
          why: `${accepted ? 'accepted' : 'refused'} ${c.kind}`,
          input: input(),
        });
    } catch (error) {
      t.failures.push({ where: c.edge, why: String((error as Error).stack ?? error), input: input() });
    }
    const ms = performance.now() - start;
    timed(t, ms, `${c.edge}: ${c.kind}`);
    if (ms > LIMIT_MS) t.failures.push({ where: c.edge, why: `took ${ms.toFixed(0)} ms`, input: input() });
  }
}

function fuzzParsers(inputs: Input[], t: Tally): void {
  for (const input of inputs) {
    const start = performance.now();
    try {
      const text = typeof input.content === 'string' ? input.content : decodeConfig(input.content, 'fuzz');
      parseConfig(parseYaml(text, 'fuzz'), {}, 'fuzz');
      count(t, 'config valid');
    } catch (error) {
      if (error instanceof ConfigError) count(t, 'config refused');
      else t.failures.push({ where: 'parseConfig', why: String((error as Error).stack ?? error), input });
    }
    const ms = performance.now() - start;
    timed(t, ms, input.kind);
    if (ms > LIMIT_MS) t.failures.push({ where: 'parseConfig', why: `took ${ms.toFixed(0)} ms`, input });
  }
}

function summary(name: string, t: Tally): string {
  const sorted = [...t.times].sort((a, b) => a - b);
  const q = (p: number) =>
    (sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0).toFixed(1);
  const exits = [...t.byExit]
    .sort()
    .map(([k, v]) => `${k}: ${v}`)
    .join(', ');
  return `${name}: ${t.runs} runs, p50 ${q(0.5)} ms, p99 ${q(0.99)} ms, max ${q(1)} ms (${t.slowest.kind}), ${t.failures.length} failure(s); ${exits}`;
}

const dir = await mkdtemp(join(tmpdir(), 'portlb-fuzz-'));
const start = performance.now();
const end = start + SECONDS * 1000;
const cliTally = tally();
const parserTally = tally();
const edgeTally = tally();
try {
  // The configs `plan --observed` runs with: the bgp example, and one per cloud beside the inputs.
  const planConfig: Record<string, string> = {};
  for (const [mode, config] of Object.entries(PLAN_CONFIGS)) {
    if (config.endsWith('.yaml')) planConfig[mode] = config;
    else {
      planConfig[mode] = join(dir, `plan-${mode}.yaml`);
      await writeFile(planConfig[mode], config);
    }
  }
  const planJob = (f: RoutesFile): CliJob => ({
    args: ['plan', '--config', planConfig[f.mode]!, '--observed'],
    input: { kind: `observed: ${f.kind}`, content: f.content },
    exit: f.exit === 'either' ? undefined : f.exit,
  });
  // Mostly the CLI (a process per input, so bounded by spawns); the parsers in between.
  for (let batch = 0; performance.now() < end; batch++) {
    const seed = SEED + batch;
    const inputs = fc.sample(configInput, { seed, numRuns: 40 });
    fuzzParsers(inputs, parserTally);
    fuzzEdges(edgeCases(seed), edgeTally);
    const jobs: CliJob[] = [
      ...inputs.map((input, i) => ({ args: COMMANDS[i % COMMANDS.length]!, input })),
      ...fc.sample(routesFile, { seed, numRuns: 12 }).map(planJob),
    ];
    await fuzzCli(jobs, dir, cliTally, end);
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}

const failures = [...cliTally.failures, ...parserTally.failures, ...edgeTally.failures];
console.log(
  `fuzz: seed ${SEED}, ${((performance.now() - start) / 1000).toFixed(0)} s on node ${process.version}`,
);
console.log(summary('  CLI (shipped bundle)', cliTally));
console.log(summary('  config parser (in process)', parserTally));
console.log(summary('  other edges (in process)', edgeTally));
if (failures.length > 0) {
  await mkdir(args.out, { recursive: true });
  for (const [i, failure] of failures.slice(0, 20).entries()) {
    const file = join(args.out, `failure-${SEED}-${i}.input`);
    await writeFile(file, failure.input.content);
    console.log(
      `FAIL ${failure.where} (${failure.input.kind}): ${failure.why.split('\n')[0]}\n  input: ${file}`,
    );
  }
  process.exitCode = 1;
}
