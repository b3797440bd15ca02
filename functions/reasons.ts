import type { z } from 'zod';
import { formatPath } from '../src/config/load.js';

/**
 * Why an event was refused: its first few problems, each with its field (`detail.instance-id:
 * must be ...`), `where` in front of every path. The functions log this and write nothing.
 */
export function refusal(error: z.ZodError, where?: string): string {
  const shown = error.issues.slice(0, 3).map((issue) => {
    const path = formatPath(where === undefined ? issue.path : [where, ...issue.path]);
    return `${path}: ${issue.message}`;
  });
  const more = error.issues.length - shown.length;
  return more > 0 ? `${shown.join('; ')} (and ${more} more)` : shown.join('; ');
}
