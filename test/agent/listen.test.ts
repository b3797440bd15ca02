import { describe, expect, it } from 'vitest';
import { agentListen } from '../../src/agent/listen.js';
import { ConfigError } from '../../src/errors.js';

describe('agentListen', () => {
  it.each<[string, string, string | undefined, string]>([
    ['the node IP from HOST_IP', '$(HOST_IP):9403', '10.0.0.1', '10.0.0.1:9403'],
    ['an IPv6 node IP, bracketed', '$(HOST_IP):9403', 'fd00::1', '[fd00::1]:9403'],
    ['a literal address is kept', '0.0.0.0:9403', undefined, '0.0.0.0:9403'],
    ['a literal IPv6 address is kept', '[::1]:9403', '10.0.0.1', '[::1]:9403'],
  ])('%s', (_name, listen, hostIp, expected) => {
    expect(agentListen(listen, { hostIp })).toBe(expected);
  });

  it('HOST_IP missing: a ConfigError that says where to get it', () => {
    const error = (() => {
      try {
        return agentListen('$(HOST_IP):9403', { hostIp: undefined });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      { path: 'env.HOST_IP', message: 'set it from the Downward API (fieldPath: status.hostIP)' },
    ]);
  });

  it('another variable is refused, not left for listen() to misread', () => {
    expect(() => agentListen('$(POD_IP):9403', { hostIp: '10.0.0.1' })).toThrow(ConfigError);
  });
});
