import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseCloudEvent } from '../../../functions/gcp/events.js';
import { anyInput } from '../../../fuzz/event-arbitraries.js';
import { brokenGcpEvent, pubsubEvent, validGcpEvent } from '../../../fuzz/gcp-event-arbitraries.js';
import { canonicalInstanceUrl } from '../../../src/core/provider-id.js';

/*
 * The GCP functions' edge: parseCloudEvent reads anything without throwing, reads every
 * well-formed message as its kind with the payload's values (a lifecycle message round-trips,
 * its instance canonical), and refuses every message broken in one place, naming the field.
 */

describe('parseCloudEvent', () => {
  it('never throws, whatever it is given, in the envelope or as the payload', () => {
    fc.assert(
      fc.property(anyInput, (input) => {
        const asPayload = (() => {
          try {
            return [pubsubEvent(input, '1', '2026-12-01T08:00:00Z')];
          } catch {
            return []; // not JSON at all (a BigInt): no message can carry it
          }
        })();
        for (const candidate of [input, ...asPayload]) {
          const parsed = parseCloudEvent(candidate);
          if (!parsed.ok) expect(parsed.reason.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('reads every well-formed message as its kind, with its id and values', () => {
    fc.assert(
      fc.property(validGcpEvent, ({ kind, payload, event }) => {
        const parsed = parseCloudEvent(event);
        expect(parsed).toMatchObject({ ok: true, event: { kind, id: event.id } });
        if (!parsed.ok) return;
        if (parsed.event.kind === 'lifecycle') {
          expect(parsed.event.detail).toEqual({
            ...payload,
            instance: canonicalInstanceUrl(String(payload.instance)),
          });
        }
        if (parsed.event.kind === 'instance-down') {
          const audit = payload.protoPayload as { resourceName: string; methodName: string };
          expect(parsed.event.instance).toBe(canonicalInstanceUrl(audit.resourceName));
          expect(parsed.event.methodName).toBe(audit.methodName);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('refuses every message broken in one place, with a reason naming what is wrong', () => {
    fc.assert(
      fc.property(brokenGcpEvent, ({ event, reason, what }) => {
        const parsed = parseCloudEvent(event);
        expect(parsed.ok, what).toBe(false);
        if (!parsed.ok) expect(parsed.reason, what).toMatch(reason);
      }),
      { numRuns: 1500 },
    );
  });
});
