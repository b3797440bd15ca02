import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ConfirmAnswer,
  commandAsker,
  confirmWithdrawn,
  type WithdrawnRoute,
} from '../../../src/providers/bgp/withdraw-confirm.js';

const web: WithdrawnRoute = { vip: '10.1.1.0/24', nextHop: '10.99.0.11', service: 'web' };
const api: WithdrawnRoute = { vip: '10.1.2.0/24', nextHop: '10.99.0.11', service: 'api' };
const spec = { command: ['unused'], timeoutMs: 1000, intervalMs: 100 };

/** A clock that moves only when the confirmation sleeps, and answers scripted per VIP. */
function scripted(answers: Record<string, ConfirmAnswer[]>) {
  let now = 0;
  const asked: string[] = [];
  return {
    asked,
    deps: {
      ask: async (route: WithdrawnRoute) => {
        asked.push(route.vip);
        return answers[route.vip]?.shift() ?? 'used';
      },
      sleep: async (ms: number) => {
        now += ms;
      },
      now: () => now,
    },
  };
}

describe('withdraw confirmation', () => {
  it.each([
    ['gone at once', { '10.1.1.0/24': ['gone'] }, [web], { confirmed: true, attempts: 1, ms: 0 }],
    [
      'gone after two intervals',
      { '10.1.1.0/24': ['used', 'used', 'gone'] },
      [web],
      { confirmed: true, attempts: 3, ms: 200 },
    ],
    [
      'each route until it is gone, asked no more after',
      { '10.1.1.0/24': ['gone'], '10.1.2.0/24': ['used', 'gone'] },
      [web, api],
      { confirmed: true, attempts: 2, ms: 100 },
    ],
  ] as const)('%s', async (_name, answers, routes, want) => {
    const { deps, asked } = scripted(structuredClone(answers) as unknown as Record<string, ConfirmAnswer[]>);
    const result = await confirmWithdrawn(spec, routes, deps);
    expect(result).toMatchObject({ ...want, pending: [] });
    if (routes.length === 2) expect(asked).toEqual(['10.1.1.0/24', '10.1.2.0/24', '10.1.2.0/24']);
  });

  it('gives up at the timeout and says what is still used and the last problem', async () => {
    const { deps } = scripted({ '10.1.1.0/24': [{ unknown: 'exit 2: no route table' }] });
    const result = await confirmWithdrawn(spec, [web], deps);
    expect(result).toEqual({
      confirmed: false,
      ms: 1000,
      attempts: 11,
      pending: ['10.1.1.0/24 via 10.99.0.11'],
      lastProblem: '10.1.1.0/24 via 10.99.0.11: exit 2: no route table',
    });
  });
});

describe('the command as the asker', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'portlb-confirm-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it.each([
    [0, 'gone'],
    [1, 'used'],
  ] as const)('exit %i is %s, and the route is in its environment', async (code, answer) => {
    const script = join(dir, `exit-${code}.sh`);
    const seen = join(dir, `seen-${code}`);
    await writeFile(
      script,
      `#!/bin/sh\necho "$PORTLB_SERVICE $PORTLB_VIP $PORTLB_NEXT_HOP" > ${seen}\nexit ${code}\n`,
    );
    await chmod(script, 0o755);
    expect(await commandAsker([script])(web, 2000)).toBe(answer);
    expect(await readFile(seen, 'utf8')).toBe('web 10.1.1.0/24 10.99.0.11\n');
  });

  it('any other exit, or no such command, is unknown', async () => {
    expect(await commandAsker(['sh', '-c', 'echo broken >&2; exit 2'])(web, 2000)).toEqual({
      unknown: expect.stringContaining('broken'),
    });
    expect(await commandAsker([join(dir, 'missing')])(web, 2000)).toEqual({
      unknown: expect.stringContaining('not found'),
    });
  });
});
