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
    ['{ "type": "state", "neighbor": { "state": "up" } }', /^state message: neighbor\.address: /],
    [
      '{ "type": "state", "neighbor": { "address": { "peer": "10.99.0.2" }, "state": "sideways" } }',
      /^state message: neighbor\.state: must be up, down or connected/,
    ],
    [
      '{ "type": "state", "neighbor": { "address": { "peer": "x" }, "state": "up" } }',
      /^state message: neighbor\.address\.peer: "x" is not an IP address/,
    ],
    ['{ "type": "state", "neighbor": "10.99.0.2" }', /^state message: neighbor: /],
    ['{ "type": 7 }', /its type is not a short string/],
    ['garbage', /not JSON/],
  ])('malformed: %s', (line, reason) => {
    const event = parseApiLine(line);
    expect(event?.kind).toBe('malformed');
    expect(event?.kind === 'malformed' && event.reason).toMatch(reason);
  });

  it('does not parse a line longer than any state message, and says how long it was', () => {
    const line = `{ "type": "update", "x": "${'y'.repeat(70_000)}" }`;
    expect(parseApiLine(line)).toMatchObject({
      kind: 'malformed',
      reason: `a line of ${line.length} characters (at most 65536)`,
    });
  });

  it('keeps only an excerpt of a huge bad line', () => {
    const event = parseApiLine(`x${'y'.repeat(10_000)}`);
    expect(event?.kind === 'malformed' && event.line.length).toBe(200);
  });

  it('reads a peer in canonical form, and cuts a long reason instead of refusing it', () => {
    const line = JSON.stringify({
      type: 'state',
      neighbor: { address: { peer: '2001:DB8:0::2' }, state: 'down', reason: 'r'.repeat(2000) },
    });
    const event = parseApiLine(line);
    expect(event).toMatchObject({ kind: 'peer', peer: '2001:db8::2', state: 'down' });
    expect(event?.kind === 'peer' && event.reason?.length).toBe(512);
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
