/**
 * portlb's KubeConfig reuses its TLS connections (src/kube/client.ts poolConnections): API calls
 * through a counting TCP proxy in front of a real kube-apiserver open one connection, where
 * client-node's own KubeConfig opens one per call.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadKubeConfig } from '../../src/kube/client.js';
import { type KubeTestServer, startKube } from './kube/harness.js';

describe('Kubernetes API connections', () => {
  let kube: KubeTestServer;
  let proxy: Server;
  let connections = 0;
  const sockets = new Set<Socket>();
  let dir: string;
  let kubeconfig: string;

  beforeAll(async () => {
    kube = await startKube();
    const upstream = new URL(kube.server);
    proxy = createServer((client) => {
      connections += 1;
      const server = connect(Number(upstream.port), upstream.hostname);
      for (const socket of [client, server]) {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
      }
      client.pipe(server).pipe(client);
      client.on('error', () => server.destroy());
      server.on('error', () => client.destroy());
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const port = (proxy.address() as AddressInfo).port;
    dir = await mkdtemp(join(tmpdir(), 'portlb-kube-pool-'));
    kubeconfig = join(dir, 'kubeconfig');
    const text = kube.admin.exportConfig().replace(kube.server, `https://127.0.0.1:${port}`);
    await writeFile(kubeconfig, text, { mode: 0o600 });
  });

  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => proxy?.close(resolve));
    await kube?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const tenCalls = async (kc: KubeConfig) => {
    const core = kc.makeApiClient(CoreV1Api);
    connections = 0;
    for (let i = 0; i < 10; i++) await core.listNamespace();
    return connections;
  };

  it('client-node alone opens a connection per call (what the pool is for)', async () => {
    const plain = new KubeConfig();
    plain.loadFromFile(kubeconfig);
    expect(await tenCalls(plain)).toBe(10);
  });

  it('portlb keeps one keep-alive connection for all of them', async () => {
    expect(await tenCalls(loadKubeConfig(kubeconfig))).toBe(1);
  });

  it('a changed TLS identity (a reloaded kubeconfig) gets a new connection, and keeps it', async () => {
    const kc = loadKubeConfig(kubeconfig);
    expect(await tenCalls(kc)).toBe(1);
    // The same CA with a trailing newline: different bytes, so a different TLS identity.
    const ca = join(dir, 'ca-rotated.crt');
    await writeFile(ca, `${await readFile(kube.caFile, 'utf8')}\n`);
    const text = await readFile(kubeconfig, 'utf8');
    expect(text).toContain(kube.caFile);
    const rotated = join(dir, 'kubeconfig-rotated');
    await writeFile(rotated, text.replace(kube.caFile, ca), { mode: 0o600 });
    kc.loadFromFile(rotated);
    expect(await tenCalls(kc)).toBe(1);
  });
});
