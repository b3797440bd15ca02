import { readFileSync } from 'node:fs';
import type { Config } from '../config/load.js';
import type { BgpConfig } from '../config/schema.js';
import { prefix } from '../core/cidr.js';
import { ConfigError } from '../errors.js';

/** Reads a secret at render time; injected so that tests need no files. */
export type ReadSecret = (path: string) => string;

export const readSecretFile: ReadSecret = (path) => {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch (cause) {
    throw new ConfigError(
      `cannot read password file ${path}`,
      [{ path, message: (cause as Error).message }],
      {
        cause,
      },
    );
  }
};

/** The route reflectors' peer-group every LB speaker joins through a dynamic-neighbor range. */
export const LB_GROUP = 'portlb-lb';

export interface Timers {
  readonly hold: number;
  /** A third of the hold time, as RFC 4271 suggests; at least 1 s; 0 with a hold time of 0 (none sent). */
  readonly keepalive: number;
}

export function timers(hold: number): Timers {
  return { hold, keepalive: hold === 0 ? 0 : Math.max(1, Math.floor(hold / 3)) };
}

export function requireBgp(config: Config, peer: string): BgpConfig {
  if (config.bgp === undefined) {
    throw new ConfigError(`render ${peer} needs a "bgp" section`, [{ path: 'bgp', message: 'missing' }]);
  }
  return config.bgp;
}

export function requireTopology(config: Config, peer: string): NonNullable<BgpConfig['topology']> {
  const topology = requireBgp(config, peer).topology;
  if (topology === undefined) {
    throw new ConfigError(`render ${peer} needs bgp.topology.router`, [
      { path: 'bgp.topology', message: 'missing: the upstream router the route reflectors peer with' },
    ]);
  }
  return topology;
}

/** The address families the configured VIPs need, in a fixed order. */
export function vipFamilies(config: Config): (4 | 6)[] {
  const families = new Set(config.services.map((s) => prefix(s.vip).family));
  return ([4, 6] as const).filter((f) => families.has(f));
}

/** Strings inside double quotes in exabgp, gobgp TOML and FRR must not break out of them. */
export function quoted(text: string, what: string): string {
  if (/["\\\n\r]/.test(text)) {
    throw new ConfigError(
      `${what} contains a quote, backslash or newline, which the peer configs cannot carry`,
    );
  }
  return `"${text}"`;
}

/** FRR takes a password as one bare word. */
export function frrWord(text: string, what: string): string {
  if (!/^[!-~]+$/.test(text)) {
    throw new ConfigError(`${what} must be printable ASCII without spaces for FRR`);
  }
  return text;
}
