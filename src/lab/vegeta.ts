import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { z } from 'zod';
import { PermanentError } from '../errors.js';

/*
 * The lab's load generator: vegeta (built from its Go module by scripts/build-vegeta.sh), run in
 * the client namespace. Chosen over Debian's wrk, the paper's, because it writes one result per
 * request (start time, latency, status, error, body): failed requests can be counted per change
 * window, and each answer says which LB and which backend served it.
 */

export function vegetaBinary(): string {
  return join(process.env.PORTLB_VEGETA_CACHE ?? '/var/cache/portlb/vegeta', 'bin', 'vegeta');
}

export interface AttackOptions {
  /** Names the stream in its results. */
  readonly name: string;
  readonly ns: string;
  readonly url: string;
  /** Requests per second, open loop; 0: as fast as `workers` allow (closed loop, like wrk). */
  readonly rate: number;
  /** Closed loop: this many workers, each one request at a time. */
  readonly workers?: number;
  /** false: a new connection per request; true: requests reuse at most `connections` connections. */
  readonly keepalive: boolean;
  readonly connections?: number;
  /** Seconds; until stop() when absent. */
  readonly durationS?: number;
  readonly timeoutS: number;
  /** Bytes of each body kept in the results (the answer of `/` is short). */
  readonly maxBody: number;
  /** Where vegeta writes its results (gob), beside the targets file. */
  readonly dir: string;
}

export interface Attack {
  readonly resultsFile: string;
  /** SIGINT: vegeta stops sending and writes what it has. */
  stop(): Promise<void>;
  /** Resolves when vegeta has exited. */
  readonly done: Promise<void>;
}

export async function startAttack(o: AttackOptions): Promise<Attack> {
  const targets = join(o.dir, `${o.name}.targets`);
  const resultsFile = join(o.dir, `${o.name}.bin`);
  await writeFile(targets, `GET ${o.url}\n`);
  const args = [
    'attack',
    `-name=${o.name}`,
    `-targets=${targets}`,
    `-output=${resultsFile}`,
    `-rate=${o.rate === 0 ? '0' : `${o.rate}/1s`}`,
    `-duration=${o.durationS === undefined ? '0' : `${o.durationS}s`}`,
    `-timeout=${o.timeoutS}s`,
    `-keepalive=${o.keepalive}`,
    `-max-body=${o.maxBody}`,
    '-http2=false',
    '-redirects=-1',
    ...(o.workers !== undefined ? [`-workers=${o.workers}`, `-max-workers=${o.workers}`] : []),
    ...(o.connections !== undefined
      ? [`-connections=${o.connections}`, `-max-connections=${o.connections}`]
      : []),
  ];
  const child = spawn('ip', ['netns', 'exec', o.ns, vegetaBinary(), ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const done = new Promise<void>((resolve, reject) => {
    child.on('error', (error) => reject(new PermanentError(`vegeta: ${error.message}`, { cause: error })));
    child.on('close', (code, signal) => {
      if (code === 0 || signal === 'SIGINT') resolve();
      else reject(new PermanentError(`vegeta ${o.name} exited ${code ?? signal}: ${stderr.trim()}`));
    });
  });
  // Whoever awaits it sees a failure; without a waiter (the bench failed elsewhere) it must not crash us.
  done.catch(() => undefined);
  return {
    resultsFile,
    done,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
      await done;
    },
  };
}

/** One request as vegeta recorded it. Times are ms since the epoch (the bench's own clock). */
export interface RequestResult {
  readonly attack: string;
  readonly start: number;
  readonly latencyMs: number;
  readonly code: number;
  readonly error: string;
  readonly bytesIn: number;
  readonly body: string;
}

export const failed = (r: RequestResult): boolean => r.code !== 200 || r.error !== '';

const resultLine = z.object({
  attack: z.string(),
  code: z.number(),
  timestamp: z.string(),
  latency: z.number(),
  bytes_in: z.number(),
  error: z.string(),
  body: z.string().nullable().optional(),
});

/** RFC 3339 with nanoseconds, as Go writes it, to ms since the epoch. */
export function parseGoTime(text: string): number {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(text);
  if (m === null) throw new PermanentError(`vegeta: unexpected timestamp ${text}`);
  const fraction = (m[2] ?? '').padEnd(6, '0');
  return Date.parse(`${m[1]}${m[3]}`) + Number(fraction.slice(0, 6)) / 1000;
}

export function parseResult(line: string): RequestResult {
  const r = resultLine.parse(JSON.parse(line));
  return {
    attack: r.attack,
    start: parseGoTime(r.timestamp),
    latencyMs: r.latency / 1e6,
    code: r.code,
    error: r.error,
    bytesIn: r.bytes_in,
    body: r.body ? Buffer.from(r.body, 'base64').toString() : '',
  };
}

/** Every result of an attack, through `vegeta encode --to json` (one object a line). */
export async function readResults(file: string): Promise<RequestResult[]> {
  const child = spawn(vegetaBinary(), ['encode', '--to', 'json', file], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out: RequestResult[] = [];
  const lines = createInterface({ input: child.stdout });
  const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
  for await (const line of lines) if (line.trim() !== '') out.push(parseResult(line));
  if ((await closed) !== 0) throw new PermanentError(`vegeta encode ${file} failed`);
  return out;
}
