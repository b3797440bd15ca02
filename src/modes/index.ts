import type { Mode } from '../core/mode.js';
import { PermanentError } from '../errors.js';
import type { ModeFactory } from './types.js';

/** Each mode registers its factory here as it lands. */
const factories: Partial<Record<Mode, ModeFactory>> = {};

export function modeFactory(mode: Mode): ModeFactory {
  const factory = factories[mode];
  if (factory === undefined) {
    throw new PermanentError(
      `mode ${mode} is not available in this build; use --state FILE to write routes to a file`,
    );
  }
  return factory;
}
