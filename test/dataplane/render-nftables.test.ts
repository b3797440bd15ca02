import { describe, expect, it } from 'vitest';
import { modelFromConfig } from '../../src/dataplane/render.js';
import { renderNftables } from '../../src/dataplane/render-nftables.js';
import { renderers } from '../../src/render/index.js';
import { expectGolden } from '../render/golden.js';
import { servicesConfig, servicesModel, v4, webModel } from './fixtures.js';

describe('render nftables', () => {
  it('renders every service, port and family of the fixture (nat)', async () => {
    const rendered = renderNftables(await servicesModel());
    expectGolden('nftables-nat.nft', rendered.script);
  });

  it('renders only the source NAT when ipvs picks the backends', async () => {
    expectGolden('nftables-ipvs-snat.nft', renderNftables(await servicesModel({ kind: 'ipvs' })).script);
  });

  it('replaces only its own table, in one transaction', async () => {
    const { script, body } = renderNftables(await servicesModel());
    expect(script.split('\n').slice(0, 2)).toEqual(['table inet portlb', 'delete table inet portlb']);
    expect(script.endsWith(body)).toBe(true);
    expect(script.match(/^(add |delete |flush )?table /gm)).toHaveLength(3);
    expect(script).not.toMatch(/^(flush ruleset|table (ip|ip6|inet) (?!portlb))/m);
  });

  it('is the same bytes whatever order the backends came in', async () => {
    const config = await servicesConfig();
    const reversed = {
      ...config,
      services: config.services.map((s) =>
        'static' in s.backends ? { ...s, backends: { static: [...s.backends.static].reverse() } } : s,
      ),
    };
    const { scriptFor: _a, ...got } = renderNftables(modelFromConfig(reversed));
    const { scriptFor: _b, ...want } = renderNftables(modelFromConfig(config));
    expect(got).toEqual(want);
  });

  it.each([
    ['the seed', webModel({}, { seed: 7 })],
    ['a backend', webModel({ backends: [v4('10.98.0.21')] })],
    ['the backend order', webModel({ backends: [v4('10.98.0.22'), v4('10.98.0.21')] })],
  ])('changes its intent hash with %s', (_name, model) => {
    expect(renderNftables(model).intent).not.toBe(renderNftables(webModel()).intent);
  });

  it('carries the owner and the intent in the owner rule, and counts rules per chain', () => {
    const rendered = renderNftables(webModel());
    expect(rendered.body).toContain(`accept comment "portlb owner=lab rules=${rendered.intent}"`);
    expect(rendered.shape).toEqual({
      prerouting: 1,
      output: 1,
      'svc-web-tcp-80': 1,
      postrouting: 1,
      owner: 1,
    });
  });

  it('hashes the 5-tuple with the seed over the ordered list', () => {
    const { body } = renderNftables(webModel({}, { seed: 0xdeadbeef }));
    expect(body).toContain(
      'dnat ip to jhash ip saddr . tcp sport . ip daddr . tcp dport mod 2 seed 0xdeadbeef map { 0 : 10.98.0.21 . 8080, 1 : 10.98.0.22 . 8080 }',
    );
  });

  it('writes no rule for a service without ready backends (draining ones keep their flows through conntrack)', () => {
    const rendered = renderNftables(webModel({ backends: [], draining: [v4('10.98.0.21')] }));
    expect(rendered.shape).toEqual({ prerouting: 0, output: 0, owner: 1 });
    expect(rendered.body).not.toContain('10.98.0.21');
  });

  it('is what `portlb render nftables` prints', async () => {
    const config = await servicesConfig();
    expect(renderers.nftables?.(config, {})).toBe(renderNftables(await servicesModel()).script);
  });
});
