import { describe, expect, it } from 'vitest';
import { DEFAULT_DATA_PLANE } from '../../src/config/schema.js';
import { renderKeepalived } from '../../src/dataplane/render-keepalived.js';
import { ConfigError } from '../../src/errors.js';
import { renderers } from '../../src/render/index.js';
import { expectGolden } from '../render/golden.js';
import { servicesConfig, servicesModel, v4, webModel } from './fixtures.js';

const ipvs = DEFAULT_DATA_PLANE.ipvs;

describe('render keepalived', () => {
  it('renders a virtual server per service port, Maglev hashing with the port (defaults)', async () => {
    expectGolden('keepalived-mh.conf', renderKeepalived(await servicesModel({ kind: 'ipvs' })));
  });

  it('renders HTTP checks, another scheduler, and draining backends with weight 0', () => {
    const model = webModel(
      { backends: [v4('10.98.0.21')], draining: [v4('10.98.0.22')] },
      {
        kind: 'ipvs',
        ipvs: {
          ...ipvs,
          scheduler: 'sh',
          fallback: false,
          check: { type: 'http', path: '/healthz', intervalSeconds: 2, timeoutSeconds: 3, retries: 2 },
        },
      },
    );
    expectGolden('keepalived-sh-http-draining.conf', renderKeepalived(model));
  });

  it.each([
    ['mh', true, true, ['lvs_sched mh', 'mh-port', 'mh-fallback']],
    ['mh', false, false, ['lvs_sched mh']],
    ['sh', true, false, ['lvs_sched sh', 'sh-port']],
    ['rr', true, true, ['lvs_sched rr']],
    ['wlc', false, true, ['lvs_sched wlc']],
  ] as const)('scheduler %s (hashPort %s, fallback %s): %j', (scheduler, hashPort, fallback, lines) => {
    const text = renderKeepalived(
      webModel({}, { kind: 'ipvs', ipvs: { ...ipvs, scheduler, hashPort, fallback } }),
    );
    const schedulerLines = text
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => /^(lvs_sched|[ms]h-)/.test(l));
    expect(schedulerLines).toEqual(lines);
  });

  it('leaves out a service whose every backend left (keepalived refuses a virtual server without weight)', () => {
    const text = renderKeepalived(webModel({ backends: [], draining: [v4('10.98.0.21')] }, { kind: 'ipvs' }));
    expect(text).not.toContain('virtual_server');
  });

  it.each([
    ['10.1.0.0/23', '/24'],
    ['2001:db8:1::/119', '/120'],
  ])('refuses a VIP range wider than ipvs serves (%s)', (vip, widest) => {
    const model = webModel({ vip }, { kind: 'ipvs' });
    expect(() => renderKeepalived(model)).toThrow(ConfigError);
    try {
      renderKeepalived(model);
    } catch (error) {
      expect((error as ConfigError).problems[0]).toEqual({
        path: 'services[0].vip',
        message: expect.stringContaining(`use a ${widest} or narrower`),
      });
    }
  });

  it('is what `portlb render keepalived` prints', async () => {
    const config = await servicesConfig();
    expect(renderers.keepalived?.(config, {})).toBe(renderKeepalived(await servicesModel()));
  });
});

describe('render keepalived, forwarding tunnel', () => {
  it('tunnels to the real servers (lvs_method TUN, IPIP) with Maglev hashing over the port (golden)', async () => {
    const text = renderKeepalived(await servicesModel({ kind: 'ipvs', forwarding: 'tunnel' }));
    expect(text).toContain('    lvs_sched mh\n    mh-port\n    mh-fallback\n    lvs_method TUN type ipip\n');
    expect(text).not.toContain('lvs_method NAT');
    // TUN cannot change the port (keepalived refuses a real server on another one): the backend
    // maps the service port to its own, and the check goes to where it listens.
    expect(text).toContain(
      'real_server 10.98.0.21 443 {\n        weight 1\n        inhibit_on_failure\n        TCP_CHECK {\n            connect_port 8080\n',
    );
    expect(text).not.toMatch(/real_server \S+ 8080/);
    expectGolden('keepalived-mh-tun.conf', text);
  });
});
