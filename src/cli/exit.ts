import { formatProblems } from '../config/load.js';
import { ConfigError, errorMessage } from '../errors.js';

/**
 * Exit codes: 0 done, 1 failed at run time, 2 bad input (config, flags, files). (3, "not
 * implemented yet", is no longer returned.) Anything that is not a ConfigError is a run-time failure:
 * one line on stderr, never a stack trace.
 */
export const EXIT = { ok: 0, failed: 1, badInput: 2 } as const;

export async function exitFor(work: Promise<number>): Promise<void> {
  try {
    process.exitCode = await work;
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${formatProblems(error)}\n`);
      process.exitCode = EXIT.badInput;
      return;
    }
    process.stderr.write(`portlb: ${errorMessage(error)}\n`);
    process.exitCode = EXIT.failed;
  }
}
