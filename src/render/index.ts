import type { Config } from '../config/load.js';
import { renderKeepalivedConfig, renderNftablesScript } from '../dataplane/render.js';
import { renderBfdd } from './bfd.js';
import { renderExabgp } from './exabgp.js';
import { renderRouter } from './router.js';
import { renderRr } from './rr.js';

export type Renderer = (config: Config, options: Record<string, string | undefined>) => string;

/** Peer configs `portlb render` can write; each peer's renderer registers here when it lands. */
export const renderers: Record<string, Renderer | undefined> = {
  exabgp: renderExabgp,
  bfdd: renderBfdd,
  rr: renderRr,
  router: renderRouter,
  keepalived: renderKeepalivedConfig,
  nftables: renderNftablesScript,
};
