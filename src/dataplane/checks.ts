import type { PlaneModel } from './model.js';

/**
 * Something the data plane verifies after each sync beyond its own rules (the tunnel to each
 * backend, agreement with the other LBs), with what it found for /readyz. A check never changes
 * the rules: LBs that excluded backends on their own findings would disagree on the tables.
 */
export interface DataPlaneCheck {
  readonly name: string;
  /** Called as soon as a sync has written the model, before `run`: what it publishes at once. */
  observe?(model: PlaneModel): void;
  run(model: PlaneModel): Promise<void>;
  /** Reasons nothing of a service can serve. */
  notReady(): string[];
  /** Serving, but not as it should. */
  degraded(): string[];
  status(): Record<string, unknown>;
}
