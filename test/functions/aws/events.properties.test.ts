import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseEvent } from '../../../functions/aws/events.js';
import { anyInput, brokenEvent, validEvent } from '../../../fuzz/event-arbitraries.js';

/*
 * The functions' edge: parseEvent reads any input without throwing, reads every well-formed event
 * as its kind, and refuses (ok: false, with a reason) every event broken in one place.
 */

describe('parseEvent', () => {
  it('never throws, whatever it is given', () => {
    fc.assert(
      fc.property(anyInput, (input) => {
        const parsed = parseEvent(input);
        expect(typeof parsed.ok).toBe('boolean');
        if (!parsed.ok) expect(parsed.reason.length).toBeGreaterThan(0);
      }),
      { numRuns: 3000 },
    );
  });

  it('reads every well-formed event as its kind, with its id and every value it carries', () => {
    fc.assert(
      fc.property(validEvent, ({ kind, event }) => {
        const parsed = parseEvent(event);
        expect(parsed).toMatchObject({ ok: true, event: { kind, id: event.id } });
        const detail = event.detail as Record<string, unknown>;
        if (!parsed.ok) return;
        // What the functions act on is what the event said: nothing lost, nothing made up.
        const e = parsed.event;
        if (e.kind === 'instance-state')
          expect([e.instanceId, e.state]).toEqual([detail['instance-id'], detail.state]);
        if (e.kind === 'spot-warning')
          expect([e.instanceId, e.action]).toEqual([detail['instance-id'], detail['instance-action']]);
        if (e.kind === 'scheduled') expect(e.time).toBe(event.time);
        if (e.kind === 'lifecycle') expect(e.detail).toEqual(detail);
      }),
    );
  });

  it('refuses every event broken in one place, with a reason, and never throws', () => {
    fc.assert(
      fc.property(brokenEvent, (event) => {
        const parsed = parseEvent(event);
        expect(parsed.ok, JSON.stringify(event)).toBe(false);
        if (!parsed.ok)
          expect(parsed.reason).toMatch(
            /^(not an EventBridge event: event|unknown event type|.+ \/ .+: detail)/,
          );
      }),
      { numRuns: 3000 },
    );
  });
});
