import { loadConfig } from '../config/load.js';
import { renderers } from '../render/index.js';

/** The peers whose configs carry a TCP-MD5 key: only their rendering needs the key files. */
const readsKeys = new Set(['exabgp', 'rr', 'router']);

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
    checkFiles: readsKeys.has(peer) ? ['tcp-md5-key'] : false,
  });
  process.stdout.write(render(config, options));
  return 0;
}
