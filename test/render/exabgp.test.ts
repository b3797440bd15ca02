import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { renderExabgpConfig } from '../../src/render/exabgp.js';
import { renderers } from '../../src/render/index.js';
import { expectGolden, fakeSecret, topologyConfig } from './golden.js';

const run = '/usr/bin/node /opt/portlb/relay.js /run/portlb/exabgp-api.sock';

describe('render exabgp', () => {
  it('renders one neighbor per route reflector for the named node', async () => {
    // prepare
    const config = await topologyConfig();
    // act
    const { text, self } = renderExabgpConfig(config, { run, node: 'node1' });
    // assess
    expect(self).toMatchObject({ nodeIp: '10.99.0.11', nextHop: '10.99.0.11', routerId: '10.99.0.11' });
    expectGolden('exabgp-node1.conf', text);
  });

  it('binds to the pod IP and names itself by it when the Downward API says so', async () => {
    const config = await topologyConfig({ HOST_IP: '10.99.0.12', POD_IP: '10.244.2.7' });
    const withPodId = { ...config, bgp: { ...config.bgp!, routerId: 'pod-ip' as const } };
    const peers = withPodId.bgp.peers.map((p, i) =>
      i === 0 ? { ...p, passwordFile: '/etc/portlb/md5', port: 1179 } : p,
    );
    const { text } = renderExabgpConfig(
      { ...withPodId, bgp: { ...withPodId.bgp, peers } },
      { run, readSecret: fakeSecret },
    );
    expectGolden('exabgp-pod-md5.conf', text);
  });

  it('refuses to guess the next hop', async () => {
    const config = await topologyConfig();
    expect(() => renderExabgpConfig(config, { run })).toThrow(ConfigError);
    expect(() => renderExabgpConfig(config, { run, node: 'nope' })).toThrow(
      /no targets entry has node "nope"/,
    );
  });

  it('is registered, with the bgp-api relay as its process', async () => {
    const text = renderers.exabgp?.(await topologyConfig(), { node: 'node2', socket: '/tmp/x.sock' });
    expect(text).toContain('run portlb bgp-api --socket /tmp/x.sock;');
    expect(text).toContain('local-address 10.99.0.12;');
  });
});
