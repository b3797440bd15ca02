import type { Config } from '../config/load.js';

export type Renderer = (config: Config, options: Record<string, string | undefined>) => string;

/** Peer configs `portlb render` can write; each peer's renderer registers here when it lands. */
export const renderers: Record<string, Renderer | undefined> = {
  exabgp: undefined,
  rr: undefined,
  router: undefined,
  keepalived: undefined,
  nftables: undefined,
};
