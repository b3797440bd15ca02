import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { PermanentError } from '../errors.js';
import { CommandError, type CommandOutput, exec, type RunOptions } from '../system/exec.js';

export type Runner = (
  argv: readonly string[],
  options?: Pick<RunOptions, 'input' | 'timeoutMs'>,
) => Promise<CommandOutput>;

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
  const run: Runner = (argv, options) => exec(argv, { ...options, ns: netns });
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
