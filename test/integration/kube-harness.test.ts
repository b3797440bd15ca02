import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type KubeTestServer, startKube } from './kube/harness.js';

describe('kube test harness', () => {
  let kube: KubeTestServer;
  beforeAll(async () => {
    kube = await startKube();
  });
  afterAll(async () => {
    await kube?.stop();
  });

  it('starts a real API server with RBAC and service-account tokens', async () => {
    expect(kube.startMs).toBeLessThan(10_000);
    const core = kube.admin.makeApiClient(CoreV1Api);
    const namespaces = await core.listNamespace();
    expect(namespaces.items.map((n) => n.metadata?.name)).toContain('kube-system');

    await kube.createNamespace('harness');
    const token = await kube.serviceAccountToken('harness', 'nobody');
    const asNobody = kube.kubeConfigFor(token).makeApiClient(CoreV1Api);
    await expect(asNobody.listNamespacedPod({ namespace: 'harness' })).rejects.toMatchObject({ code: 403 });
    const canI = await kube.kubectl(['auth', 'can-i', 'list', 'pods', '-n', 'harness'], { token });
    expect(canI.stdout.trim()).toBe('no');
  });
});

describe('kube test harness without the binaries', () => {
  it('fails with the command that builds them', async () => {
    const saved = process.env.KUBE_APISERVER_BIN;
    process.env.KUBE_APISERVER_BIN = '/nonexistent/kube-apiserver';
    try {
      vi.resetModules();
      const fresh = await import('./kube/harness.js');
      await expect(fresh.startKube()).rejects.toThrow(
        '/nonexistent/kube-apiserver is missing: run scripts/build-kube.sh',
      );
    } finally {
      if (saved === undefined) delete process.env.KUBE_APISERVER_BIN;
      else process.env.KUBE_APISERVER_BIN = saved;
    }
  });
});
