import { accessSync, constants, statSync } from 'node:fs';
import type { Config } from '../config/load.js';
import type { Problem } from '../errors.js';

/** Every key file the config names, with the field that names it. */
function secretFiles(config: Config): { path: string; file: string }[] {
  const bgp = config.bgp;
  if (bgp === undefined) return [];
  const out = bgp.peers.flatMap((p, i) =>
    p.passwordFile === undefined ? [] : [{ path: `bgp.peers[${i}].passwordFile`, file: p.passwordFile }],
  );
  const router = bgp.topology?.router.passwordFile;
  if (router !== undefined) out.push({ path: 'bgp.topology.router.passwordFile', file: router });
  return out;
}

/**
 * Key files that are missing or unreadable, for `portlb validate`: checked without reading
 * them, so that no key is ever held, let alone printed.
 */
export function secretFileProblems(config: Config): Problem[] {
  return secretFiles(config).flatMap(({ path, file }) => {
    try {
      if (!statSync(file).isFile()) return [{ path, message: `${file} is not a file` }];
      accessSync(file, constants.R_OK);
      return [];
    } catch (cause) {
      const code = (cause as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'is not readable' : String(code);
      return [{ path, message: `${file} ${why}` }];
    }
  });
}
