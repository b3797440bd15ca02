/** One thing wrong with an input, named by its path (`services[0].vip`). */
export interface Problem {
  readonly path: string;
  readonly message: string;
}

/** Bad configuration or input: retrying cannot help; the caller reports it and changes nothing. */
export class ConfigError extends Error {
  override readonly name: string = 'ConfigError';
  constructor(
    message: string,
    readonly problems: readonly Problem[] = [],
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** A failure worth retrying: throttling, a timeout, a peer restarting. */
export class TransientError extends Error {
  override readonly name: string = 'TransientError';
}

/** A failure that will repeat until something changes outside (a missing permission, an unknown table). */
export class PermanentError extends Error {
  override readonly name: string = 'PermanentError';
}

export function isTransient(error: unknown): boolean {
  return error instanceof TransientError;
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
