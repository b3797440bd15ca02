import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { run } from './support.js';

/*
 * deploy/k8s/monitoring: the PrometheusRule's groups checked by Debian's promtool (check rules,
 * and the unit tests in prometheus-rules.test.yaml), and every query of the rules and of the
 * Grafana dashboard naming only metrics portlb exports (the `name: 'portlb_...'` of src/).
 */

const RULE = 'deploy/k8s/monitoring/prometheus-rule.yaml';
const DASHBOARD = 'deploy/k8s/monitoring/grafana-dashboard.json';

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
}
interface Dashboard {
  panels: { title: string; type: string; targets: { expr: string }[] }[];
  templating: { list: { query?: unknown }[] };
}

/** The metrics portlb defines, with the series a Histogram exposes besides its name. */
async function exportedMetrics(): Promise<Set<string>> {
  const files = (await readdir('src', { recursive: true })).filter((f) => f.endsWith('.ts'));
  const names = new Set<string>();
  let named = 0;
  let defined = 0;
  for (const file of files) {
    const text = await readFile(join('src', file), 'utf8');
    named += (text.match(/name: 'portlb_/g) ?? []).length;
    for (const [, kind, name] of text.matchAll(
      /new (Counter|Gauge|Histogram|Summary)\(\{\s*name: '(portlb_\w+)'/g,
    )) {
      defined += 1;
      names.add(`${name}`);
      if (kind === 'Histogram' || kind === 'Summary')
        for (const s of ['_bucket', '_sum', '_count']) names.add(`${name}${s}`);
    }
  }
  // Every `name: 'portlb_` was read with its kind: the pattern missed none.
  expect(defined).toBeGreaterThan(0);
  expect(defined).toBe(named);
  return names;
}

const KEYWORDS = new Set([
  'and',
  'or',
  'unless',
  'bool',
  'offset',
  'by',
  'without',
  'on',
  'ignoring',
  'inf',
  'nan',
]);

/**
 * The metric names a PromQL expression selects: identifiers outside strings, label matchers,
 * ranges and grouping lists that are not functions, aggregations or keywords. Grafana's `$vars`
 * are taken out first.
 */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/\$\{?\w+\}?/g, ' ')
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, ' ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  return [...bare.matchAll(/([A-Za-z_:][\w:]*)(\s*\()?/g)]
    .filter(([, name, call]) => call === undefined && name !== undefined && !KEYWORDS.has(name.toLowerCase()))
    .map(([, name]) => name as string);
}

let dir: string;
let rules: Rule[];
let dashboard: Dashboard;
let exported: Set<string>;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'portlb-promtool-'));
  const rule = parse(await readFile(RULE, 'utf8')) as { spec: { groups: { rules: Rule[] }[] } };
  await writeFile(join(dir, 'rules.yaml'), stringify(rule.spec));
  rules = rule.spec.groups.flatMap((g) => g.rules);
  dashboard = JSON.parse(await readFile(DASHBOARD, 'utf8')) as Dashboard;
  exported = await exportedMetrics();
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('metricNames', () => {
  it.each([
    ['portlb_bgp_session_up == 0', ['portlb_bgp_session_up']],
    [
      'histogram_quantile(0.99, sum by (namespace, le) (rate(portlb_reconcile_duration_seconds_bucket{namespace=~"$namespace"}[$__rate_interval])))',
      ['portlb_reconcile_duration_seconds_bucket'],
    ],
    ['count by (vip) (a[1h]) unless count by (vip) (b)', ['a', 'b']],
    ['sum without (pod) (rate(x_total{result!="ok"}[5m])) > bool 0 or on (vip) y', ['x_total', 'y']],
  ])('%s', (expr, names) => {
    expect(metricNames(expr)).toEqual(names);
  });
});

describe('the PrometheusRule', () => {
  it('passes promtool check rules', async () => {
    const result = await run('promtool', ['check', 'rules', join(dir, 'rules.yaml')]);
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain(`SUCCESS: ${rules.length} rules found`);
  });

  it('passes its promtool unit tests, which fire every alert and keep each quiet once', async () => {
    const tests = await readFile('test/deploy/prometheus-rules.test.yaml', 'utf8');
    await writeFile(join(dir, 'rules.test.yaml'), tests);
    const result = await run('promtool', ['test', 'rules', join(dir, 'rules.test.yaml')]);
    expect(result.stdout + result.stderr).toContain('SUCCESS');
    expect(result.code).toBe(0);
    const cases = (
      parse(tests) as { tests: { alert_rule_test: { alertname: string; exp_alerts: unknown[] }[] }[] }
    ).tests.flatMap((t) => t.alert_rule_test);
    for (const { alert } of rules) {
      const mine = cases.filter((c) => c.alertname === alert);
      expect(
        mine.some((c) => c.exp_alerts.length > 0),
        `${alert} fires in a test`,
      ).toBe(true);
      expect(
        mine.some((c) => c.exp_alerts.length === 0),
        `${alert} stays quiet in a test`,
      ).toBe(true);
    }
  });

  it('uses only metrics portlb exports', () => {
    for (const { alert, expr } of rules) {
      const names = metricNames(expr);
      expect(names.length, alert).toBeGreaterThan(0);
      expect(
        names.filter((n) => !exported.has(n)),
        alert,
      ).toEqual([]);
    }
  });
});

describe('the Grafana dashboard', () => {
  const queries = () => [
    ...dashboard.panels.flatMap((p) => p.targets.map((t) => ({ where: p.title, expr: t.expr }))),
    ...dashboard.templating.list.flatMap((v) => {
      const query =
        typeof v.query === 'object' && v.query !== null ? (v.query as { query?: string }).query : undefined;
      // label_values(METRIC, LABEL): the metric is the selector.
      const metric = query === undefined ? undefined : /^label_values\((\w+),/.exec(query)?.[1];
      return metric === undefined ? [] : [{ where: `variable ${query}`, expr: metric }];
    }),
  ];

  it('names only metrics portlb exports, in every query', () => {
    expect(dashboard.panels.every((p) => p.targets.length > 0)).toBe(true);
    for (const { where, expr } of queries()) {
      const names = metricNames(expr);
      expect(names.length, where).toBeGreaterThan(0);
      expect(
        names.filter((n) => !exported.has(n)),
        where,
      ).toEqual([]);
    }
  });

  it('has queries promtool accepts, with Grafana’s variables filled in', async () => {
    const recorded = queries().map(({ expr }, i) => ({
      record: `dashboard:query_${i}`,
      expr: expr.replaceAll('$__rate_interval', '5m').replaceAll('$namespace', '.*'),
    }));
    await writeFile(
      join(dir, 'dashboard.yaml'),
      stringify({ groups: [{ name: 'dashboard', rules: recorded }] }),
    );
    const result = await run('promtool', ['check', 'rules', join(dir, 'dashboard.yaml')]);
    expect(result.stdout).toContain(`SUCCESS: ${recorded.length} rules found`);
  });

  it('shows the convergence histogram, the next hops of each VIP and failed publishes', () => {
    const panel = (title: RegExp) => dashboard.panels.find((p) => title.test(p.title));
    expect(panel(/^Reconcile duration \(/)).toMatchObject({ type: 'heatmap' });
    expect(panel(/^Reconcile duration \(/)?.targets[0]?.expr).toMatch(
      /portlb_reconcile_duration_seconds_bucket/,
    );
    expect(panel(/^Next hops per VIP/)?.targets[0]?.expr).toMatch(
      /^count by \(vip\) \(portlb_bgp_announced_routes/,
    );
    expect(panel(/next hops per VIP on each node/)?.targets[0]?.expr).toBe('portlb_node_route_nexthops');
    // The failures behind PortlbPublishFailing, per pod and report.
    expect(panel(/^Failed publishes/)?.targets[0]?.expr).toMatch(
      /^sum by \(pod, what\) \(increase\(portlb_publish_failures_total\{/,
    );
  });
});
