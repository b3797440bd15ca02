import type { FileKind } from '../config/files.js';
import { loadConfig } from '../config/load.js';
import { renderers } from '../render/index.js';

/** The TCP-MD5 key files each peer's config carries: only those are checked before rendering it. */
const keysOf: Readonly<Record<string, readonly FileKind[]>> = {
  exabgp: ['tcp-md5-key'],
  rr: ['tcp-md5-key', 'router-md5-key'],
  router: ['router-md5-key'],
};

export async function runRender(
  peer: string,
  options: Record<string, string | undefined> & { config: string },
): Promise<number> {
  if (!(peer in renderers)) {
    process.stderr.write(
      `portlb render: unknown peer "${peer}"; one of ${Object.keys(renderers).join(', ')}\n`,
    );
    return 2;
  }
  const render = renderers[peer];
  if (render === undefined) {
    process.stderr.write(`portlb render: the ${peer} renderer is not implemented yet\n`);
    return 3;
  }
  const config = await loadConfig(options.config, process.env, {
    checkFiles: keysOf[peer] ?? false,
  });
  process.stdout.write(render(config, options));
  return 0;
}
