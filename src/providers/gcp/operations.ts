import { TransientError } from '../../errors.js';
import { call, operationFailure, toComputeError } from './errors.js';
import type { ComputeMethod, ComputePort, OperationResource } from './port.js';

/** A warning a finished Operation carries (`NEXT_HOP_NOT_RUNNING`: the route exists, traffic drops). */
export interface OperationWarning {
  readonly code: string;
  readonly message: string;
}

export function operationWarnings(operation: OperationResource): OperationWarning[] {
  return (operation.warnings ?? []).map((w) => ({ code: w.code ?? 'UNKNOWN', message: w.message ?? '' }));
}

/**
 * Waits until the Operation is DONE. `globalOperations.wait` may return before that (it answers
 * after about two minutes at most, with the operation as it then is), so it is called again, at
 * most `maxWaits` times; an operation still not DONE after that is a transient failure (the next
 * attempt, with the same requestId, finds the same operation). A DONE operation with an error is
 * classified like a failed call, under the method that started it.
 */
export async function waitDone(
  compute: ComputePort,
  started: OperationResource,
  detail: { readonly method: ComputeMethod; readonly project: string; readonly resource: string },
  maxWaits: number,
): Promise<OperationResource> {
  let operation = started;
  for (let waits = 0; operation.status !== 'DONE'; waits++) {
    const name = operation.name;
    if (!name)
      throw new TransientError(`compute ${detail.method} on ${detail.resource}: the operation has no name`);
    if (waits >= maxWaits) {
      throw new TransientError(
        `compute ${detail.method} on ${detail.resource}: operation ${name} still ${operation.status ?? 'unknown'} after ${maxWaits} waits`,
      );
    }
    operation = await call({ method: 'globalOperations.wait', project: detail.project, resource: name }, () =>
      compute.waitOperation({ project: detail.project, operation: name }),
    );
  }
  const failure = operationFailure(operation);
  if (failure !== undefined) throw toComputeError(operation, detail, failure);
  return operation;
}
