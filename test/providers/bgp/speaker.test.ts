import { describe, expect, it } from 'vitest';
import { TransientError } from '../../../src/errors.js';
import { fakeExabgp, state, web } from './helpers.js';

const why = { cause: 'healthy', reason: 'test' };
const other = { vip: '10.1.2.0/24', nextHop: '10.99.0.11' };

describe('speaker', () => {
  it('sends the whole desired set to an exabgp that connects, and counts it announced only once acked', async () => {
    // prepare
    const { speaker, writer, lines, changes, metric } = fakeExabgp();
    await speaker.set([web, other], why);
    // act
    speaker.attach(writer);
    // assess
    expect(lines).toEqual([
      'announce route 10.1.1.0/24 next-hop 10.99.0.11',
      'announce route 10.1.2.0/24 next-hop 10.99.0.11',
    ]);
    expect(speaker.announced()).toEqual([]);
    speaker.receive('done');
    expect(speaker.announced()).toEqual([web]);
    speaker.receive('done');
    expect(speaker.announced()).toEqual([web, other]);
    expect(changes).toContain('exabgp connected');
    expect(await metric('portlb_bgp_announced_routes')).toContain(
      'portlb_bgp_announced_routes{vip="10.1.1.0/24",next_hop="10.99.0.11"} 1',
    );
    expect(await metric('portlb_bgp_decisions_total')).toEqual([
      'portlb_bgp_decisions_total{action="announce",cause="exabgp_start"} 2',
    ]);
  });

  it('sends only the difference on sync, and withdraws what is no longer wanted', async () => {
    const { speaker, writer, lines } = fakeExabgp({ autoAck: true });
    speaker.attach(writer);
    await speaker.set([web, other], why);
    lines.length = 0;
    const errors = await speaker.set([other], { cause: 'unhealthy', reason: 'probe failed' });
    expect(errors.size).toBe(0);
    expect(lines).toEqual(['withdraw route 10.1.1.0/24 next-hop 10.99.0.11']);
    expect(speaker.announced()).toEqual([other]);
  });

  it('re-sends the whole set to a session that comes back up, scoped to that neighbor', async () => {
    const { speaker, writer, lines } = fakeExabgp();
    await speaker.set([web], why);
    speaker.attach(writer);
    speaker.receive('done');
    lines.length = 0;
    speaker.receive(state('10.99.0.2', 'connected'));
    speaker.receive(state('10.99.0.2', 'up'));
    speaker.receive(state('10.99.0.2', 'up')); // a repeated "up" is not a new session
    expect(lines).toEqual(['neighbor 10.99.0.2 announce route 10.1.1.0/24 next-hop 10.99.0.11']);
    expect(speaker.peers()['10.99.0.2']?.state).toBe('up');
    speaker.receive(state('10.99.0.2', 'down', 'hold timer expired'));
    expect(speaker.peers()['10.99.0.2']).toMatchObject({ state: 'down', reason: 'hold timer expired' });
  });

  it('logs and skips malformed lines, and keeps acks lined up with commands', async () => {
    const { speaker, writer, metric } = fakeExabgp();
    speaker.attach(writer);
    const pending = speaker.set([web], why);
    speaker.receive('{ not json');
    speaker.receive('{"type":"state","neighbor":{}}');
    speaker.receive('done');
    expect((await pending).size).toBe(0);
    expect(speaker.announced()).toEqual([web]);
    expect(await metric('portlb_bgp_api_errors_total')).toEqual([
      'portlb_bgp_api_errors_total{kind="malformed"} 2',
    ]);
  });

  it('reports an error ack for the route and retries it on the next sync', async () => {
    const { speaker, writer, lines } = fakeExabgp();
    speaker.attach(writer);
    const first = speaker.set([web], why);
    speaker.receive('error');
    const errors = await first;
    expect(errors.get('10.1.1.0/24 10.99.0.11')).toBeInstanceOf(TransientError);
    expect(speaker.announced()).toEqual([]);
    const second = speaker.set([web], why);
    speaker.receive('done');
    expect((await second).size).toBe(0);
    expect(lines).toHaveLength(2);
    expect(speaker.announced()).toEqual([web]);
  });

  it('fails fast while no exabgp is connected, then catches up when one connects', async () => {
    const { speaker, writer, lines } = fakeExabgp();
    const errors = await speaker.set([web], why);
    expect(String(errors.get('10.1.1.0/24 10.99.0.11'))).toMatch(/not connected/);
    speaker.attach(writer);
    expect(lines).toEqual(['announce route 10.1.1.0/24 next-hop 10.99.0.11']);
  });

  it('forgets everything an exabgp confirmed when it goes away, and fails what it left unanswered', async () => {
    const { speaker, writer, metric } = fakeExabgp();
    speaker.attach(writer);
    speaker.receive(state('10.99.0.2', 'up'));
    const first = speaker.set([web], why);
    speaker.receive('done');
    await first;
    const pending = speaker.set([web, other], why);
    speaker.detach(writer, 'relay gone');
    expect((await pending).get('10.1.2.0/24 10.99.0.11')).toBeInstanceOf(TransientError);
    expect(speaker.announced()).toEqual([]);
    expect(speaker.connected()).toBe(false);
    expect(speaker.peers()['10.99.0.2']).toMatchObject({ state: 'down', reason: 'relay gone' });
    expect(await metric('portlb_bgp_session_up')).toContain('portlb_bgp_session_up{peer="10.99.0.2"} 0');
  });

  it('observes what exabgp was told while it is connected, and the set the next one gets while it is away', async () => {
    // prepare
    const { speaker, writer, lines } = fakeExabgp();
    speaker.attach(writer);
    // act + assess: an announce in flight counts (a run may withdraw it), a refused one does not
    const first = speaker.set([web, other], why);
    expect(speaker.observed()).toEqual([web, other]);
    speaker.receive('done');
    speaker.receive('error');
    await first;
    expect(speaker.observed()).toEqual([web]);
    // a withdraw in flight no longer counts, although exabgp has not confirmed it yet
    const second = speaker.set([], why);
    expect(speaker.announced()).toEqual([web]);
    expect(speaker.observed()).toEqual([]);
    speaker.receive('done');
    await second;
    // away: the desired set; dropping a route then sends nothing and cannot fail
    const third = speaker.set([web, other], why);
    speaker.receive('done');
    speaker.receive('done');
    await third;
    speaker.detach(writer, 'relay gone');
    expect(speaker.observed()).toEqual([web, other]);
    lines.length = 0;
    const errors = await speaker.set([web], why);
    expect([...errors.keys()]).toEqual(['10.1.1.0/24 10.99.0.11']); // only the announce still owed
    expect(speaker.observed()).toEqual([web]);
    speaker.attach(writer);
    expect(lines).toEqual(['announce route 10.1.1.0/24 next-hop 10.99.0.11']);
  });

  it('ignores the close of an exabgp that was already replaced', () => {
    const { speaker, writer } = fakeExabgp();
    const newer = { write: () => {} };
    speaker.attach(writer);
    speaker.attach(newer);
    speaker.detach(writer, 'old relay closed');
    expect(speaker.connected()).toBe(true);
  });

  it('times out an unanswered command without shifting later acks, and calls exabgp stuck', async () => {
    const stuck: string[] = [];
    const { speaker, writer } = fakeExabgp({ ackTimeoutMs: 20, onStuck: (c) => stuck.push(c) });
    speaker.attach(writer);
    const errors = await speaker.set([web], why);
    expect(String(errors.get('10.1.1.0/24 10.99.0.11'))).toMatch(/did not acknowledge/);
    expect(stuck).toEqual(['announce route 10.1.1.0/24 next-hop 10.99.0.11']);
    const next = speaker.set([web, other], why);
    speaker.receive('done'); // the late ack of the first announce
    speaker.receive('done');
    expect((await next).size).toBe(0);
    expect(speaker.announced()).toEqual([web, other]);
  });

  it('counts an ack nobody asked for', async () => {
    const { speaker, writer, metric } = fakeExabgp();
    speaker.attach(writer);
    speaker.receive('done');
    expect(await metric('portlb_bgp_api_errors_total')).toEqual([
      'portlb_bgp_api_errors_total{kind="stray_ack"} 1',
    ]);
  });

  it('marks every session down when exabgp announces its shutdown', () => {
    const { speaker, writer } = fakeExabgp();
    speaker.attach(writer);
    speaker.receive(state('10.99.0.3', 'up'));
    speaker.receive('{ "exabgp": "4.0.1", "type": "notification", "notification": "shutdown" }');
    expect(speaker.peers()['10.99.0.3']?.state).toBe('down');
  });
});
