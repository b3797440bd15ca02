import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ApiChannel, startApiChannel } from '../../../src/providers/bgp/channel.js';
import { silentLogger } from '../../../src/runtime/logger.js';
import { fakeExabgp, state, web } from './helpers.js';

// The shipped relay: the bundle's second entry, which vitest's global setup builds.
const RELAY = fileURLToPath(new URL('../../../dist/cli/bgp-relay.mjs', import.meta.url));

let dir: string;
let channel: ApiChannel | undefined;
const children: ChildProcess[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'portlb-relay-'));
});
afterEach(async () => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  await channel?.close();
  channel = undefined;
  await rm(dir, { recursive: true, force: true });
});

/** Plays exabgp: runs the relay as its process and sees what the sidecar writes. */
function relay(socket: string) {
  const child = spawn(process.execPath, [RELAY, socket], { stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(child);
  const received: string[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => received.push(line));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, received, exited };
}

const until = async (check: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('API channel and relay', () => {
  it('carries commands to exabgp and its events and acks back, then replaces a restarted exabgp', async () => {
    // prepare
    const { speaker } = fakeExabgp();
    await speaker.set([web], { cause: 'healthy', reason: 'test' });
    const socket = join(dir, 'api.sock');
    channel = await startApiChannel({ path: socket, speaker, logger: silentLogger() });
    // act: exabgp starts its process
    const first = relay(socket);
    // assess: the full set goes out as soon as it connects
    await until(() => first.received.length === 1);
    expect(first.received).toEqual(['announce route 10.1.1.0/24 next-hop 10.99.0.11']);
    first.child.stdin!.write(`done\n${state('10.99.0.2', 'up')}\n`);
    await until(() => speaker.peers()['10.99.0.2']?.state === 'up' && speaker.announced().length === 1);
    // act: exabgp restarts; its new process connects and gets the whole set again
    first.child.stdin!.end();
    expect(await first.exited).toBe(0);
    await until(() => !speaker.connected());
    expect(speaker.announced()).toEqual([]);
    const second = relay(socket);
    await until(() => second.received.length === 1);
    expect(second.received[0]).toBe('announce route 10.1.1.0/24 next-hop 10.99.0.11');
  });

  it('exits when the sidecar goes away (and only signals a parent that is exabgp)', async () => {
    const { speaker } = fakeExabgp();
    const socket = join(dir, 'api.sock');
    channel = await startApiChannel({ path: socket, speaker, logger: silentLogger() });
    const r = relay(socket);
    await until(() => speaker.connected());
    await channel.close();
    channel = undefined;
    expect(await r.exited).toBe(1);
  });

  it('gives up with a clear message when no sidecar listens', async () => {
    const r = relay(join(dir, 'nobody.sock'));
    let stderr = '';
    r.child.stderr!.on('data', (d) => {
      stderr += String(d);
    });
    expect(await r.exited).toBe(1);
    expect(stderr).toMatch(/cannot reach the sidecar/);
  }, 15_000);
});
