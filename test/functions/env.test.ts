import { describe, expect, it } from 'vitest';
import { parseFunctionEnv } from '../../functions/aws/env.js';
import { parseGcpFunctionEnv } from '../../functions/gcp/env.js';

/*
 * The functions' environments, read with the config file's field schemas: what the sidecar's
 * config refuses the functions refuse too, each problem at env.NAME, never a throw.
 */

const said = (result: { ok: true } | { ok: false; problems: { path: string; message: string }[] }) =>
  result.ok ? '' : result.problems.map((p) => `${p.path}: ${p.message}`).join('; ');

describe('the AWS functions’ environment', () => {
  const env = {
    AWS_REGION: 'us-east-1',
    PORTLB_VIPS: '192.0.2.0/24, 198.51.100.0/28',
    PORTLB_ROUTE_TABLE_IDS: 'rtb-0123456789abcdef0,rtb-01234567',
  };

  it('reads the SAM template environment', () => {
    const parsed = parseFunctionEnv({ ...env, PORTLB_EC2_ENDPOINT: 'http://127.0.0.1:5000' });
    expect(parsed).toMatchObject({
      ok: true,
      config: {
        region: 'us-east-1',
        vips: ['192.0.2.0/24', '198.51.100.0/28'],
        tables: { ids: ['rtb-0123456789abcdef0', 'rtb-01234567'] },
        owner: 'portlb',
        staleSeconds: 180,
        concurrency: 8,
        maxAttempts: 5,
        logLevel: 'info',
        endpoint: 'http://127.0.0.1:5000',
      },
    });
  });

  it('reads a tag selector, and a blank variable as unset', () => {
    const parsed = parseFunctionEnv({
      ...env,
      PORTLB_ROUTE_TABLE_IDS: ' ',
      PORTLB_ROUTE_TABLE_TAGS: 'portlb.io/managed=true,team=net',
      PORTLB_EVENT_BUS: '',
    });
    expect(parsed).toMatchObject({
      ok: true,
      config: { tables: { tags: { 'portlb.io/managed': 'true', team: 'net' } }, eventBus: undefined },
    });
  });

  it.each([
    ['no VIPs', { PORTLB_VIPS: ',' }, 'env.PORTLB_VIPS: name at least one VIP'],
    [
      'a VIP with host bits',
      { PORTLB_VIPS: '192.0.2.5/24' },
      'env.PORTLB_VIPS[0]: "192.0.2.5/24" has host bits set; did you mean 192.0.2.0/24?',
    ],
    [
      'both table selectors',
      { PORTLB_ROUTE_TABLE_TAGS: 'a=b' },
      'env: give "PORTLB_ROUTE_TABLE_IDS" or "PORTLB_ROUTE_TABLE_TAGS", not both',
    ],
    [
      'no table selector',
      { PORTLB_ROUTE_TABLE_IDS: undefined },
      'env: needs "PORTLB_ROUTE_TABLE_IDS" or "PORTLB_ROUTE_TABLE_TAGS"',
    ],
    [
      'a short table id (the config refuses it)',
      { PORTLB_ROUTE_TABLE_IDS: 'rtb-1' },
      'env.PORTLB_ROUTE_TABLE_IDS[0]: must be a route table id (rtb- and 8 or 17 hex digits)',
    ],
    [
      'a table twice',
      { PORTLB_ROUTE_TABLE_IDS: 'rtb-01234567,rtb-01234567' },
      'env.PORTLB_ROUTE_TABLE_IDS: names a route table twice',
    ],
    [
      'a reserved tag key',
      { PORTLB_ROUTE_TABLE_IDS: undefined, PORTLB_ROUTE_TABLE_TAGS: 'aws:x=1' },
      'env.PORTLB_ROUTE_TABLE_TAGS.aws:x: tag keys starting with "aws:" are reserved by AWS',
    ],
    [
      'a tag key twice',
      { PORTLB_ROUTE_TABLE_IDS: undefined, PORTLB_ROUTE_TABLE_TAGS: 'a=1,a=2' },
      'env.PORTLB_ROUTE_TABLE_TAGS: tag key "a" is given twice',
    ],
    [
      'a pair without =',
      { PORTLB_ROUTE_TABLE_IDS: undefined, PORTLB_ROUTE_TABLE_TAGS: 'managed' },
      'env.PORTLB_ROUTE_TABLE_TAGS[0]: must be KEY=VALUE',
    ],
    ['no region', { AWS_REGION: undefined }, 'env.AWS_REGION: is not set'],
    ['a zone as region', { AWS_REGION: 'us-east-1a' }, 'env.AWS_REGION: must be an AWS region'],
    [
      'a stale time that is not a number',
      { PORTLB_STALE_SECONDS: 'soon' },
      'env.PORTLB_STALE_SECONDS: must be a number',
    ],
    [
      'a stale time past a week (the config’s bound)',
      { PORTLB_STALE_SECONDS: '700000' },
      'env.PORTLB_STALE_SECONDS: must be at most 604800 s',
    ],
    ['a fractional concurrency', { PORTLB_CONCURRENCY: '2.5' }, 'env.PORTLB_CONCURRENCY'],
    [
      'an endpoint that is not http(s)',
      { PORTLB_EC2_ENDPOINT: 'ftp://x' },
      'env.PORTLB_EC2_ENDPOINT: must be an http:// or https:// URL',
    ],
    ['a bad bus', { PORTLB_EVENT_BUS: 'my bus' }, 'env.PORTLB_EVENT_BUS: must be an event bus name'],
    ['an unknown log level', { PORTLB_LOG_LEVEL: 'loud' }, 'env.PORTLB_LOG_LEVEL'],
    ['an owner that is not a DNS label', { PORTLB_OWNER: 'Portlb' }, 'env.PORTLB_OWNER: must be a DNS label'],
  ])('refuses %s', (_name, change, message) => {
    const parsed = parseFunctionEnv({ ...env, ...change });
    expect(parsed.ok).toBe(false);
    expect(said(parsed)).toContain(message);
  });

  it('lists every problem at once', () => {
    const parsed = parseFunctionEnv({ PORTLB_VIPS: 'banana', PORTLB_CONCURRENCY: '0' });
    expect(parsed.ok ? [] : parsed.problems.map((p) => p.path)).toEqual([
      'env.AWS_REGION',
      'env.PORTLB_VIPS[0]',
      'env.PORTLB_CONCURRENCY',
    ]);
  });
});

describe('the GCP functions’ environment', () => {
  const env = { PORTLB_PROJECT: 'portlb-test', PORTLB_NETWORK: 'vpc', PORTLB_VIPS: '192.0.2.0/28' };

  it('reads the Terraform environment with its defaults', () => {
    expect(parseGcpFunctionEnv({ ...env, PORTLB_PRIORITY: '900' })).toEqual({
      ok: true,
      config: {
        project: 'portlb-test',
        network: 'vpc',
        owner: 'portlb',
        vips: ['192.0.2.0/28'],
        priority: 900,
        lifecycleMaxAgeSeconds: 180,
        computeEndpoint: undefined,
        logLevel: 'info',
      },
    });
  });

  it('takes a blank priority as unset: the default', () => {
    expect(parseGcpFunctionEnv({ ...env, PORTLB_PRIORITY: '' })).toMatchObject({
      ok: true,
      config: { priority: 1000 },
    });
  });

  it.each([
    [{ PORTLB_VIPS: '10.0.0.5/24' }, 'env.PORTLB_VIPS[0]: "10.0.0.5/24" has host bits set'],
    [{ PORTLB_PRIORITY: '70000' }, 'env.PORTLB_PRIORITY'],
    [{ PORTLB_PRIORITY: 'high' }, 'env.PORTLB_PRIORITY: must be a number'],
    [{ PORTLB_OWNER: 'Not_A_Label' }, 'env.PORTLB_OWNER'],
    [{ PORTLB_PROJECT: '' }, 'env.PORTLB_PROJECT: is not set'],
    [{ PORTLB_NETWORK: 'My-Net' }, 'env.PORTLB_NETWORK: must be a GCP name'],
    [{ PORTLB_LIFECYCLE_MAX_AGE_SECONDS: '0' }, 'env.PORTLB_LIFECYCLE_MAX_AGE_SECONDS: must be at least 1 s'],
    [
      { PORTLB_COMPUTE_ENDPOINT: 'localhost:9' },
      'env.PORTLB_COMPUTE_ENDPOINT: must be an http:// or https:// URL',
    ],
  ])('%o: %s', (change, message) => {
    expect(said(parseGcpFunctionEnv({ ...env, ...change }))).toContain(message);
  });
});
