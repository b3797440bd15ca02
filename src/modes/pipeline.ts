import type { Policy } from '../core/model.js';
import type { Registry, Source } from '../core/ports.js';
import { createRoutePipeline, type Scope } from '../runtime/route-pipeline.js';
import type { ModeDescriptor } from './types.js';

/** The route pipeline of a mode: its source and registry, planned the way the mode routes. */
export function modePipeline<View>(
  mode: Pick<ModeDescriptor, 'cardinality' | 'whenNoneHealthy'>,
  parts: {
    readonly source: Source<View>;
    readonly registry: Registry<View>;
    readonly policy?: Policy | undefined;
    readonly scope?: Scope | undefined;
  },
) {
  return createRoutePipeline({
    ...parts,
    cardinality: mode.cardinality,
    whenNoneHealthy: mode.whenNoneHealthy,
  });
}
