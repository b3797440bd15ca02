import { spawn } from 'node:child_process';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { PermanentError, TransientError } from '../errors.js';

/** A command that exited non-zero; its stderr is the message, so a failed `nft -f` says why. */
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

export interface RunOptions {
  /** Written to the command's stdin (`nft -f -`), which is then closed. */
  readonly input?: string;
  readonly timeoutMs?: number;
}

export interface CommandOutput {
  readonly stdout: string;
  readonly stderr: string;
}

export type Runner = (argv: readonly string[], options?: RunOptions) => Promise<CommandOutput>;

/**
 * Everything the data plane does to the machine, as one narrow port: run a command (nft,
 * conntrack, keepalived, modprobe), read a /proc file of its network namespace, write a config
 * file, signal a process. Tests and `--netns` runs get one bound to a network namespace.
 */
export interface DataPlaneSystem {
  readonly run: Runner;
  /** A /proc or /sys file as this network namespace sees it; undefined when it does not exist. */
  readProc(path: string): Promise<string | undefined>;
  readFile(path: string): Promise<string | undefined>;
  /** Writes the file in full and renames it into place, so a reader never sees half of it. */
  replaceFile(path: string, text: string, check?: (tmp: string) => Promise<void>): Promise<void>;
  /** Sends a signal; 0 only checks that the process exists (throws when it does not). */
  signal(pid: number, signal: NodeJS.Signals | 0): void;
}

function spawnRunner(prefix: readonly string[]): Runner {
  return (argv, options = {}) => {
    const full = [...prefix, ...argv];
    const [command, ...args] = full;
    if (command === undefined) return Promise.reject(new PermanentError('empty command'));
    return new Promise((resolve, reject) => {
      const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
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
  };
}

async function readOrUndefined(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new PermanentError(`cannot read ${path}: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * The machine as this process sees it; with `netns`, commands run in that network namespace
 * (`ip netns exec`) and /proc is read from inside it.
 */
export function createSystem(options: { netns?: string | undefined } = {}): DataPlaneSystem {
  const { netns } = options;
  const run = spawnRunner(netns === undefined ? [] : ['ip', 'netns', 'exec', netns]);
  return {
    run,
    readProc:
      netns === undefined
        ? readOrUndefined
        : (path) =>
            run(['cat', path]).then(
              (out) => out.stdout,
              (e) => (e instanceof CommandError ? undefined : Promise.reject(e)),
            ),
    readFile: readOrUndefined,
    async replaceFile(path, text, check) {
      const tmp = `${path}.portlb-new`;
      await writeFile(tmp, text, { mode: 0o644 });
      try {
        await check?.(tmp);
        await rename(tmp, path);
      } finally {
        await rm(tmp, { force: true });
      }
    },
    signal: (pid, signal) => process.kill(pid, signal),
  };
}
