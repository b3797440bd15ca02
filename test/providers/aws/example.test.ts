import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';

describe('examples/aws.yaml', () => {
  it('is a valid aws-mode config with the documented defaults', async () => {
    const config = await loadConfig(resolve(import.meta.dirname, '../../../examples/aws.yaml'), {});
    expect(config.mode).toBe('aws');
    expect(config.aws).toMatchObject({
      routeTables: { tags: { 'portlb.io/managed': 'true' } },
      publish: 'tags',
      candidacy: { refreshSeconds: 60, staleSeconds: 180 },
    });
  });
});
