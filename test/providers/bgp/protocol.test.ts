import { describe, expect, it } from 'vitest';
import { announceCommand, parseApiLine, withdrawCommand } from '../../../src/providers/bgp/protocol.js';
import { state, web } from './helpers.js';

describe('exabgp API lines', () => {
  it.each([
    ['done', { kind: 'ack', ok: true }],
    ['error', { kind: 'ack', ok: false }],
    ['  done \r', { kind: 'ack', ok: true }],
    ['shutdown', { kind: 'shutdown' }],
    [state('10.99.0.2', 'up'), { kind: 'peer', peer: '10.99.0.2', state: 'up' }],
    [state('10.99.0.2', 'connected'), { kind: 'peer', peer: '10.99.0.2', state: 'connected' }],
    [
      state('10.99.0.3', 'down', 'peer reset, message (notification) error (6,4)'),
      {
        kind: 'peer',
        peer: '10.99.0.3',
        state: 'down',
        reason: 'peer reset, message (notification) error (6,4)',
      },
    ],
    ['{ "exabgp": "4.0.1", "type": "notification", "notification": "shutdown" }', { kind: 'shutdown' }],
    ['{ "exabgp": "4.0.1", "type": "update", "neighbor": {} }', { kind: 'ignored', type: 'update' }],
    ['{ "exabgp": "4.0.1" }', { kind: 'ignored', type: 'untyped' }],
  ])('%s', (line, event) => {
    expect(parseApiLine(line)).toEqual(event);
  });

  it.each([
    ['{ "type": "state", ', /not JSON/],
    ['null', /not a JSON object/],
    ['[1,2]', /not a JSON object/],
    ['{ "type": "state", "neighbor": { "state": "up" } }', /state message without/],
    [
      '{ "type": "state", "neighbor": { "address": { "peer": "x" }, "state": "sideways" } }',
      /state message without/,
    ],
    ['garbage', /not JSON/],
  ])('malformed: %s', (line, reason) => {
    const event = parseApiLine(line);
    expect(event?.kind).toBe('malformed');
    expect(event?.kind === 'malformed' && event.reason).toMatch(reason);
  });

  it('keeps only an excerpt of a huge bad line', () => {
    const event = parseApiLine(`x${'y'.repeat(10_000)}`);
    expect(event?.kind === 'malformed' && event.line.length).toBe(200);
  });

  it('skips blank lines', () => {
    expect(parseApiLine('   ')).toBeUndefined();
  });

  it('writes the commands exabgp 4.2 takes', () => {
    expect(announceCommand(web)).toBe('announce route 10.1.1.0/24 next-hop 10.99.0.11');
    expect(announceCommand(web, '10.99.0.2')).toBe(
      'neighbor 10.99.0.2 announce route 10.1.1.0/24 next-hop 10.99.0.11',
    );
    expect(withdrawCommand(web)).toBe('withdraw route 10.1.1.0/24 next-hop 10.99.0.11');
    expect(announceCommand(web, undefined, ['65000:100', '65000:200'])).toBe(
      'announce route 10.1.1.0/24 next-hop 10.99.0.11 community [ 65000:100 65000:200 ]',
    );
  });
});
