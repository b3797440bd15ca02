import { formatProblems } from '../config/load.js';
import { ConfigError, errorMessage } from '../errors.js';

/** Exit codes: 0 done, 1 failed at run time, 2 bad input (config, flags, files). */
export async function exitFor(work: Promise<number>): Promise<void> {
  try {
    process.exitCode = await work;
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${formatProblems(error)}\n`);
      process.exitCode = 2;
      return;
    }
    process.stderr.write(`portlb: ${errorMessage(error)}\n`);
    process.exitCode = 1;
  }
}
