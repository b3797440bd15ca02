import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';

/*
 * The real GCP event path, on loopback: the Pub/Sub emulator from the machine's Google Cloud SDK
 * (a Java jar, started directly so that one PID is the whole process) and the real Functions
 * Framework serving a function of ours, with a push subscription from one to the other. Both are
 * started and stopped by PID. scripts/setup-gcp.sh checks that both are installed.
 */

const root = resolve(import.meta.dirname, '../..');
const node = resolve(root, 'node_modules/.bin/node');
const EMULATOR_LIB = '/usr/lib/google-cloud-sdk/platform/pubsub-emulator/lib';

/** The emulator's jar, whichever version the SDK ships (PORTLB_PUBSUB_EMULATOR_JAR overrides). */
export function emulatorJar(): string {
  if (process.env.PORTLB_PUBSUB_EMULATOR_JAR) return process.env.PORTLB_PUBSUB_EMULATOR_JAR;
  const jar = existsSync(EMULATOR_LIB)
    ? readdirSync(EMULATOR_LIB).find((f) => /^cloud-pubsub-emulator-.*-all\.jar$/.test(f))
    : undefined;
  if (jar === undefined)
    throw new Error(`Pub/Sub emulator not found in ${EMULATOR_LIB}: run scripts/setup.sh`);
  return join(EMULATOR_LIB, jar);
}

export async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => ok(port));
    });
  });
}

export interface Daemon {
  readonly pid: number;
  readonly url: string;
  /** Milliseconds from spawn to answering. */
  readonly startupMs: number;
  /** Everything it printed, line by line (stdout and stderr). */
  readonly lines: string[];
  waitForLine(match: (line: string) => boolean, timeoutMs?: number): Promise<string>;
  stop(): Promise<void>;
}

function collect(child: ChildProcess): string[] {
  const lines: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    let rest = '';
    stream?.on('data', (chunk: Buffer) => {
      const parts = (rest + chunk.toString('utf8')).split('\n');
      rest = parts.pop() ?? '';
      lines.push(...parts.filter((l) => l !== ''));
    });
  }
  return lines;
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await probe().catch(() => undefined);
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Starts a process, waits until `ready` answers, and gives a stop() that ends exactly that PID. */
async function daemon(
  name: string,
  command: string,
  args: readonly string[],
  url: string,
  ready: () => Promise<boolean>,
  env: NodeJS.ProcessEnv = process.env,
  timeoutMs = 60_000,
): Promise<Daemon> {
  const started = Date.now();
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines = collect(child);
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${name} did not start`);
  const stop = async () => {
    if (exited) return;
    const gone = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await gone;
    clearTimeout(timer);
  };
  try {
    await until(`${name} on ${url}`, timeoutMs, async () => {
      if (exited) throw new Error(`${name} exited early:\n${lines.slice(-20).join('\n')}`);
      return (await ready()) ? true : undefined;
    });
  } catch (error) {
    await stop();
    throw new Error(`${name} did not come up: ${String(error)}\n${lines.slice(-20).join('\n')}`);
  }
  return {
    pid,
    url,
    startupMs: Date.now() - started,
    lines,
    waitForLine: (match, timeout = 20_000) =>
      until(`a line from ${name}`, timeout, async () => lines.find(match)),
    stop,
  };
}

export interface PubsubEmulator extends Daemon {
  createTopic(project: string, topic: string): Promise<void>;
  createPushSubscription(
    project: string,
    subscription: string,
    topic: string,
    endpoint: string,
  ): Promise<void>;
  publish(project: string, topic: string, data: string): Promise<string>;
}

async function rest(url: string, method: string, body?: unknown): Promise<unknown> {
  const response = await fetch(url, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${url}: ${response.status} ${text}`);
  return text === '' ? {} : (JSON.parse(text) as unknown);
}

/** The Pub/Sub emulator (REST on the same port as gRPC), bound to 127.0.0.1. */
export async function startPubsubEmulator(): Promise<PubsubEmulator> {
  const jar = emulatorJar();
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const base = await daemon(
    'pubsub-emulator',
    'java',
    ['-jar', jar, '--host=127.0.0.1', `--port=${port}`],
    url,
    async () => (await fetch(url)).ok,
  );
  return {
    ...base,
    async createTopic(project, topic) {
      await rest(`${url}/v1/projects/${project}/topics/${topic}`, 'PUT', {});
    },
    async createPushSubscription(project, subscription, topic, endpoint) {
      await rest(`${url}/v1/projects/${project}/subscriptions/${subscription}`, 'PUT', {
        topic: `projects/${project}/topics/${topic}`,
        pushConfig: { pushEndpoint: endpoint },
        ackDeadlineSeconds: 10,
        retryPolicy: { minimumBackoff: '1s', maximumBackoff: '2s' },
      });
    },
    async publish(project, topic, data) {
      const answer = (await rest(`${url}/v1/projects/${project}/topics/${topic}:publish`, 'POST', {
        messages: [{ data: Buffer.from(data).toString('base64') }],
      })) as { messageIds?: string[] };
      const id = answer.messageIds?.[0];
      if (id === undefined) throw new Error('publish returned no message id');
      return id;
    },
  };
}

export interface FunctionBundle {
  readonly dir: string;
  remove(): Promise<void>;
}

/** Bundles a function entry (TypeScript) into a directory the Functions Framework can load. */
export async function bundleFunction(entry: string): Promise<FunctionBundle> {
  const dir = await mkdtemp(join(tmpdir(), 'portlb-gcf-'));
  await build({
    entryPoints: [resolve(root, entry)],
    outfile: join(dir, 'index.mjs'),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    logLevel: 'warning',
    banner: {
      js: "import { createRequire as __r } from 'node:module'; const require = __r(import.meta.url);",
    },
  });
  await writeFile(join(dir, 'package.json'), JSON.stringify({ type: 'module', main: 'index.mjs' }));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * The real Functions Framework (its own CLI) serving `target` from `source` as a CloudEvent
 * function, with `env` added to its environment. Never with Application Default Credentials: the
 * metadata server is switched off and pointed at a closed loopback port, so a function that lacks
 * its test token fails instead of asking metadata.google.internal.
 */
export async function startFunctionsFramework(
  source: string,
  target: string,
  env: NodeJS.ProcessEnv = {},
): Promise<Daemon> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const main = resolve(root, 'node_modules/@google-cloud/functions-framework/build/src/main.js');
  return daemon(
    'functions-framework',
    node,
    [
      `--import=${resolve(root, 'test/support/loopback-listen.mjs')}`,
      main,
      `--target=${target}`,
      '--signature-type=cloudevent',
      `--source=${source}`,
      `--port=${port}`,
    ],
    url,
    async () => {
      // Any HTTP answer means it is serving (a GET without an event is refused with 4xx).
      await fetch(url);
      return true;
    },
    {
      ...process.env,
      NODE_ENV: 'test',
      PORTLB_LOG_LEVEL: 'info',
      METADATA_SERVER_DETECTION: 'none',
      GCE_METADATA_HOST: '127.0.0.1:9',
      GCE_METADATA_IP: '127.0.0.1:9',
      ...env,
    },
  );
}
