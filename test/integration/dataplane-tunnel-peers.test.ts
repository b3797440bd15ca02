import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { webInput } from '../dataplane/fixtures.js';
import { addNetns, inNs, removeAll } from './dataplane-netns.js';

/*
 * Mismatched seeds between LBs, with the shipped process: three `portlb dataplane` processes with
 * `forwarding: tunnel`, each writing into a namespace of its own, their listeners on loopback.
 * LB A asks B (same seed) and C (another seed) for their Maglev tables: it reports C, naming it
 * and both seeds, on /readyz and in its metrics, and nothing about B.
 */

const NODE = 'node_modules/.bin/node';
const children = new Set<ChildProcess>();
let dir: string;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** Polls until `probe` gives a value (20 s at most). */
async function eventually<T>(probe: () => Promise<T | undefined>): Promise<T> {
  const end = Date.now() + 20_000;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error('condition not met within 20 s');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function startLb(role: string, seed: number, port: number, peers: number[]): Promise<void> {
  const ns = await addNetns(role, 'plbmg');
  // The ingress hook needs its interface: a veth whose other end goes nowhere.
  await inNs(ns, 'ip', 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0p');
  await inNs(ns, 'ip', 'link', 'set', 'eth0', 'up');
  const input = webInput({
    dataPlane: {
      seed,
      listen: `127.0.0.1:${port}`,
      tunnel: { peers: peers.map((p) => `127.0.0.1:${p}`), checkTimeoutSeconds: 1 },
    },
  });
  const file = join(dir, `${role}.yaml`);
  await writeFile(file, stringify({ ...input, reconcile: { resyncSeconds: 2 } }));
  const child = spawn(NODE, ['dist/cli/portlb.mjs', 'dataplane', '--config', file, '--netns', ns], {
    stdio: 'ignore',
  });
  children.add(child);
}

interface Readyz {
  readonly detail: { readonly dataPlane: { readonly degraded: readonly string[] } };
}

const ports = { a: 0, b: 0, c: 0 };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'portlb-tunnel-peers-'));
  ports.a = await freePort();
  ports.b = await freePort();
  ports.c = await freePort();
  await startLb('pa', 0x5eed, ports.a, [ports.b, ports.c]);
  await startLb('pb', 0x5eed, ports.b, [ports.a]);
  await startLb('pc', 0x5eee, ports.c, [ports.a]);
});
afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await removeAll();
  await rm(dir, { recursive: true, force: true });
});

describe('forwarding tunnel, LBs that do not agree on the seed', () => {
  it('reports the LB with another seed, naming it and both seeds, and not the one that agrees', async () => {
    const seedFinding = `LB 127.0.0.1:${ports.c} uses seed 0x5eee, this LB 0x5eed: the LBs send flows to different backends (set the same dataPlane.seed on all)`;
    const readyz = await eventually(async () => {
      const body = (await (await fetch(`http://127.0.0.1:${ports.a}/readyz`)).json()) as Readyz;
      return body.detail.dataPlane.degraded.includes(seedFinding) ? body : undefined;
    });
    const aboutPeers = readyz.detail.dataPlane.degraded.filter((d) => d.startsWith('LB '));
    expect(aboutPeers).toEqual([seedFinding]);

    const metrics = await (await fetch(`http://127.0.0.1:${ports.a}/metrics`)).text();
    expect(metrics).toContain(
      `portlb_dataplane_maglev_peer_mismatch{peer="127.0.0.1:${ports.c}",kind="seed"} 1`,
    );
    expect(metrics).not.toContain(`peer="127.0.0.1:${ports.b}"`);

    // C sees it from its side too: both ends of a mismatch say so.
    const other = await eventually(async () => {
      const body = (await (await fetch(`http://127.0.0.1:${ports.c}/readyz`)).json()) as Readyz;
      const found = body.detail.dataPlane.degraded.find((d) =>
        d.includes('uses seed 0x5eed, this LB 0x5eee'),
      );
      return found;
    });
    expect(other).toContain(`LB 127.0.0.1:${ports.a}`);
  });
});
