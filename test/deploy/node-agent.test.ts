import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { agentKubernetes } from '../../src/agent/agent.js';
import { agentListen } from '../../src/agent/listen.js';
import { parseConfig, parseYaml } from '../../src/config/load.js';

async function docs(file: string) {
  return parseAllDocuments(await readFile(file, 'utf8')).map((d) => d.toJS());
}

describe('deploy/kubernetes/node-agent.yaml', () => {
  it('runs the agent on the host network with NET_ADMIN only, as the RBAC file’s ServiceAccount', async () => {
    const manifest = await docs('deploy/kubernetes/node-agent.yaml');
    const rbac = await docs('deploy/kubernetes/node-agent-rbac.yaml');
    const account = rbac.find((d) => d.kind === 'ServiceAccount');
    const daemonSet = manifest.find((d) => d.kind === 'DaemonSet');
    const pod = daemonSet.spec.template.spec;
    expect(daemonSet.metadata.namespace).toBe(account.metadata.namespace);
    expect(pod.serviceAccountName).toBe(account.metadata.name);
    expect(pod.hostNetwork).toBe(true);
    const [container] = pod.containers;
    expect(container.args.slice(0, 1)).toEqual(['node-agent']);
    expect(container.securityContext.capabilities).toEqual({ drop: ['ALL'], add: ['NET_ADMIN'] });
    expect(container.securityContext.privileged).toBeUndefined();
    expect(container.env).toContainEqual({
      name: 'NODE_NAME',
      valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } },
    });
    const port = container.ports.find((p: { name: string }) => p.name === 'metrics').containerPort;

    // Its ConfigMap is a valid config naming the LB pods' namespace, served on that port.
    const configMap = manifest.find((d) => d.kind === 'ConfigMap');
    expect(pod.volumes[0].configMap.name).toBe(configMap.metadata.name);
    const config = parseConfig(parseYaml(configMap.data['config.yaml'], 'node-agent.yaml'), {
      NODE_NAME: 'n1',
      HOST_IP: '10.0.0.1',
    });
    expect(agentKubernetes(config).namespace).toBe('web');
    expect(config.nodeAgent.routeProtocol).toBe(202);
    // On the node's own IP, which the kubelet probes; not on every address of the node.
    expect(container.env).toContainEqual({
      name: 'HOST_IP',
      valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } },
    });
    expect(agentListen(config.nodeAgent.listen, config.identity)).toBe(`10.0.0.1:${port}`);
    // The RBAC file binds the agent in exactly that namespace.
    expect(rbac.filter((d) => d.kind === 'RoleBinding').map((d) => d.metadata.namespace)).toEqual(['web']);
  });

  it('is part of the kustomization', async () => {
    const [kustomization] = await docs('deploy/kubernetes/kustomization.yaml');
    expect(kustomization.resources).toContain('node-agent.yaml');
  });
});
