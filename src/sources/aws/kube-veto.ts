import type { PodView } from '../../kube/objects.js';
import { type Candidacy, podId } from './candidacy.js';

/**
 * How long a `ready` report may go unmatched by any LB pod the informers list before it is
 * overruled: longer than a new pod takes to appear in a watch, shorter than `staleSeconds`.
 */
export const UNKNOWN_POD_GRACE_MS = 30_000;

/**
 * The Lease holder sees every LB pod through Kubernetes, which knows sooner than the tags when a
 * pod cannot serve: its Ready condition drops when its container dies, and a deleted pod leaves the
 * list at once, while its last `ready` tag would only go stale after `staleSeconds`. This overrules
 * such reports in the holder's own choice. It never writes tags: the functions keep reading the
 * tags alone, and since the planner keeps a healthy current target, they do not undo the choice.
 */
export function kubernetesVeto(view: {
  pods: () => readonly PodView[];
  synced: () => boolean;
  now: () => number;
}): (candidacy: Candidacy) => string | undefined {
  return (candidacy) => {
    if (!view.synced()) return undefined; // no opinion before the first list
    const pod = view.pods().find((p) => podId(`${p.namespace}/${p.name}`) === candidacy.pod);
    const who = candidacy.podName || candidacy.pod;
    if (pod === undefined) {
      const age = view.now() - candidacy.at;
      return age > UNKNOWN_POD_GRACE_MS
        ? `Kubernetes lists no LB pod ${who} (reported ${Math.round(age / 1000)} s ago)`
        : undefined;
    }
    if (pod.terminating) return `Kubernetes: LB pod ${who} is terminating`;
    if (!pod.ready) return `Kubernetes: LB pod ${who} is not Ready`;
    return undefined;
  };
}
