import type { ObservedRoute } from '../core/model.js';
import type { Provider, Registry } from '../core/ports.js';
import { inOrder, refuseUnowned } from './guard.js';

function wrap<View>(
  provider: Provider<View>,
  owner: string,
  mark: (route: ObservedRoute) => ObservedRoute,
): Registry<View> {
  return {
    name: provider.name,
    owner,
    async observe() {
      const observation = await provider.observe();
      return { ...observation, routes: observation.routes.map(mark) };
    },
    async apply(changes, context) {
      const { allowed, refused } = refuseUnowned(changes, context.observation, owner);
      return inOrder(changes, refused, await provider.apply(allowed, context));
    },
  };
}

/** A provider that holds only this writer's routes: a BGP speaker owns everything it announced. */
export function ownEverything<View>(provider: Provider<View>, owner: string): Registry<View> {
  return wrap(provider, owner, (route) => ({ ...route, owner }));
}

/** A provider that stores each route's owner beside it (memory, a routes file): trusted as stored. */
export function ownAsStored<View>(provider: Provider<View>, owner: string): Registry<View> {
  return wrap(provider, owner, (route) => route);
}
