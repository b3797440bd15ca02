import { join } from 'node:path';

/** Where the lab's gobgpd serves its API (inside its own namespace, so every RR can use it). */
export const GOBGP_API = '127.0.0.1:50051';

/**
 * The lab's route reflector is GoBGP v4, built from its Go module by scripts/build-gobgp.sh (Debian's
 * gobgpd 3.10 has no BFD and no TCP-MD5 towards dynamic neighbors). Its CLI must match its API.
 */
export function gobgpBinary(name: 'gobgpd' | 'gobgp'): string {
  return join(process.env.PORTLB_GOBGP_CACHE ?? '/var/cache/portlb/gobgp', 'bin', name);
}

/** gobgpd on a TOML config, with its API on loopback and no pprof listener. */
export function gobgpdArgv(configFile: string): string[] {
  return [gobgpBinary('gobgpd'), '-f', configFile, '-t', 'toml', '--api-hosts', GOBGP_API, '--pprof-disable'];
}

/** The gobgp CLI against that API. */
export function gobgpArgv(args: readonly string[]): string[] {
  const [host, port] = GOBGP_API.split(':');
  return [gobgpBinary('gobgp'), '-u', host ?? '127.0.0.1', '-p', port ?? '50051', ...args];
}
