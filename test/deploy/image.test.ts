import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { shippedCli } from '../../src/system/shipped.js';

/** The Dockerfile's instructions, one per entry, continuation lines joined. */
async function instructions(): Promise<{ op: string; args: string }[]> {
  const text = await readFile('deploy/image/Dockerfile', 'utf8');
  return text
    .replace(/\\\n\s*/g, ' ')
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.trimStart().startsWith('#'))
    .map((line) => {
      const [op = '', ...rest] = line.trim().split(/\s+/);
      return { op: op.toUpperCase(), args: rest.join(' ') };
    });
}

describe('deploy/image/Dockerfile', () => {
  it('runs the bundle with the V8 flags of its shebang', async () => {
    const entrypoint = (await instructions()).filter((i) => i.op === 'ENTRYPOINT').at(-1);
    const argv = JSON.parse(entrypoint?.args ?? '[]') as string[];
    const { flags } = shippedCli(import.meta.url);
    expect(argv).toEqual(['node', ...flags, '/opt/portlb/portlb.mjs']);
  });

  it('builds the bundle the way npm run build does, from files the ignore file lets in', async () => {
    const steps = await instructions();
    const pkg = JSON.parse(await readFile('package.json', 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.build).toContain('node scripts/build-cli.mjs');
    expect(steps).toContainEqual({ op: 'RUN', args: 'node scripts/build-cli.mjs' });
    const allowed = (await readFile('deploy/image/Dockerfile.dockerignore', 'utf8'))
      .split('\n')
      .filter((l) => l.startsWith('!'))
      .map((l) => l.slice(1));
    const copied = steps
      .filter((s) => s.op === 'COPY' && !s.args.startsWith('--from'))
      .flatMap((s) => s.args.split(' ').slice(0, -1));
    for (const path of copied) expect(allowed, path).toContain(path);
    // What the bundle imports at build time is in those files: the build script's own imports.
    const script = await readFile('scripts/build-cli.mjs', 'utf8');
    for (const [, local] of script.matchAll(/from '\.\/([^']+)'/g))
      expect(allowed).toContain(`scripts/${local}`);
  });

  it('brings what the modes call: exabgp for bgp, ip for the node agent', async () => {
    const run = (await instructions())
      .filter((i) => i.op === 'RUN')
      .map((i) => i.args)
      .join(' ');
    expect(run).toMatch(/apt-get install .*exabgp/);
    expect(run).toMatch(/apt-get install .*iproute2/);
  });
});
