import { execFile, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { PermanentError } from '../errors.js';

export interface RunOptions {
  /** Run inside this network namespace (`ip netns exec`). */
  readonly ns?: string;
  readonly timeoutMs?: number;
  readonly env?: NodeJS.ProcessEnv;
}

/** A command that exited non-zero, with its stderr in the message so a failing lab step says why. */
export class CommandError extends PermanentError {
  constructor(
    readonly argv: readonly string[],
    readonly stderr: string,
    options?: ErrorOptions,
  ) {
    super(`${argv.join(' ')}: ${stderr.trim() || 'failed'}`, options);
  }
}

function withNs(argv: readonly string[], ns: string | undefined): string[] {
  return ns === undefined ? [...argv] : ['ip', 'netns', 'exec', ns, ...argv];
}

/** Runs a command to completion and returns its stdout. */
export function run(argv: readonly string[], options: RunOptions = {}): Promise<string> {
  const full = withNs(argv, options.ns);
  const [cmd, ...args] = full;
  if (cmd === undefined) throw new PermanentError('empty command');
  return new Promise((resolve, reject) => {
    execFile(
      cmd,
      args,
      { timeout: options.timeoutMs ?? 15_000, env: options.env ?? process.env, maxBuffer: 16 << 20 },
      (error, stdout, stderr) => {
        if (error) reject(new CommandError(full, String(stderr) || error.message, { cause: error }));
        else resolve(String(stdout));
      },
    );
  });
}

/** `ip` with `-n ns` (cheaper than `ip netns exec`: no mount namespace dance). */
export function ip(ns: string | undefined, ...args: string[]): Promise<string> {
  return run(ns === undefined ? ['ip', ...args] : ['ip', '-n', ns, ...args]);
}

export interface DaemonOptions {
  readonly ns: string;
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
