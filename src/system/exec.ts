import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { PermanentError, TransientError } from '../errors.js';

export interface RunOptions {
  /** Run inside this network namespace (`ip netns exec`). */
  readonly ns?: string | undefined;
  readonly timeoutMs?: number;
  readonly env?: NodeJS.ProcessEnv;
  /** Written to the command's stdin (`nft -f -`), which is then closed. */
  readonly input?: string;
}

export interface CommandOutput {
  readonly stdout: string;
  readonly stderr: string;
}

/** A command that exited non-zero, with its stderr in the message so a failed step says why. */
export class CommandError extends PermanentError {
  override readonly name: string = 'CommandError';
  constructor(
    readonly argv: readonly string[],
    readonly exitCode: number | null,
    readonly stderr: string,
    options?: ErrorOptions,
  ) {
    super(`${argv.join(' ')}: ${stderr.trim() || `exit ${exitCode}`}`, options);
  }
}

function withNs(argv: readonly string[], ns: string | undefined): string[] {
  return ns === undefined ? [...argv] : ['ip', 'netns', 'exec', ns, ...argv];
}

/**
 * Runs a command to completion: its stdout and stderr, or a CommandError (non-zero exit), a
 * PermanentError (not found) or a TransientError (timed out, killed).
 */
export function exec(argv: readonly string[], options: RunOptions = {}): Promise<CommandOutput> {
  const full = withNs(argv, options.ns);
  const [command, ...args] = full;
  if (command === undefined) return Promise.reject(new PermanentError('empty command'));
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], env: options.env ?? process.env });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 15_000);
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const missing = error.code === 'ENOENT';
      reject(new PermanentError(missing ? `${command}: not found` : error.message, { cause: error }));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (signal === 'SIGKILL') reject(new TransientError(`${full.join(' ')}: timed out`));
      else if (code === 0) resolve({ stdout, stderr });
      else reject(new CommandError(full, code, stderr));
    });
    child.stdin.on('error', () => {}); // a command that exits before reading its input
    child.stdin.end(options.input ?? '');
  });
}

/** Runs a command to completion and returns its stdout. */
export async function run(argv: readonly string[], options: RunOptions = {}): Promise<string> {
  return (await exec(argv, options)).stdout;
}

/** `ip` with `-n ns` (cheaper than `ip netns exec`: no mount namespace dance). */
export function ip(ns: string | undefined, ...args: string[]): Promise<string> {
  return run(ns === undefined ? ['ip', ...args] : ['ip', '-n', ns, ...args]);
}

export interface DaemonOptions {
  /** The network namespace to run in (`ip netns exec`); undefined: this one. */
  readonly ns: string | undefined;
  readonly argv: readonly string[];
  /** stdout and stderr go here (appended). */
  readonly logFile: string;
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * Starts a long-lived process in a namespace, detached from us so it outlives `portlb lab up`.
 * `ip netns exec` execs the command, so the pid returned is the daemon's own.
 */
export function spawnDaemon(options: DaemonOptions): number {
  const full = withNs(options.argv, options.ns);
  const [cmd, ...args] = full;
  if (cmd === undefined) throw new PermanentError('empty command');
  const fd = openSync(options.logFile, 'a');
  try {
    const child = spawn(cmd, args, {
      detached: true,
      stdio: ['ignore', fd, fd],
      env: options.env ?? process.env,
    });
    if (child.pid === undefined) throw new PermanentError(`could not start ${full.join(' ')}`);
    child.on('error', () => {});
    child.unref();
    return child.pid;
  } finally {
    closeSync(fd);
  }
}
