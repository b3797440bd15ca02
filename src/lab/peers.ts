import { join } from 'node:path';
import type { Config } from '../config/load.js';
import { render, writeLabConfig } from './config.js';
import { startFrrRouter, startFrrRr, startGobgpRr } from './daemons.js';
import { type Names, ROUTE_REFLECTORS, type RouteReflector } from './layout.js';
import { killNamespace } from './procs.js';
import type { StateStore } from './state.js';

/**
 * The BGP peers around the LB pods, configured by `portlb render rr|router` from the lab's config
 * (written to DIR/portlb-lab.yaml, so each can be re-rendered by hand): both route reflectors,
 * then the upstream router.
 */
async function startRr(store: StateStore, n: Names, rr: RouteReflector, config: Config): Promise<void> {
  const dir = join(store.dir, rr.name);
  const text = render('rr', config, { flavor: rr.flavor, routerId: rr.address });
  if (rr.flavor === 'gobgp') await startGobgpRr(store, rr.name, n.rr(rr), dir, text);
  else
    await startFrrRr(store, {
      name: rr.name,
      ns: n.rr(rr),
      dir,
      conf: text,
      bfd: config.bgp?.bfd !== undefined,
    });
}

export async function startPeers(store: StateStore, n: Names, progress: (m: string) => void): Promise<void> {
  const config = await writeLabConfig(store.dir, store.state);
  for (const rr of ROUTE_REFLECTORS) {
    progress(`route reflector ${rr.name} (${rr.flavor}, ${rr.address})`);
    await startRr(store, n, rr, config);
  }
  progress('upstream router (FRR zebra + bgpd, maximum-paths ibgp 16)');
  await startFrrRouter(store, n.router, join(store.dir, 'router'), render('router', config));
}

/** A route reflector crashes: SIGKILL to its daemon, by pid. */
export async function killRr(n: Names, rr: RouteReflector): Promise<void> {
  await killNamespace(n.rr(rr));
}

/** Starts a route reflector again, from the config the lab rendered at `up`. */
export async function reviveRr(store: StateStore, n: Names, rr: RouteReflector): Promise<void> {
  await startRr(store, n, rr, await writeLabConfig(store.dir, store.state));
}
