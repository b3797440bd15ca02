/**
 * The network for the tunnel tests (`plbmg-<run>-<role>` namespaces, made and removed by the
 * data-plane tests' helpers: `removeAll` there): a client, two LBs with the same rules, backends
 * on a switch.
 *
 *                 to1 10.90.1.1 -- eth0 lbA 10.90.1.2   eth1 10.98.0.1 \
 *   client 10.90.0.1                                                     sw 10.98.0.0/24 -- be1 .21, be2 .22, be3 .23
 *                 to2 10.90.2.1 -- eth0 lbB 10.90.2.2   eth1 10.98.0.2 /
 *                 eth1 10.98.0.100 ------------------------------------/
 *
 * The client reaches the VIP range 10.1.1.0/24 through lbA or lbB (a route it switches: the
 * router's ECMP rehash), always from 10.90.0.1. The backends' default route is the client's switch
 * address, so their answers go straight to the client (direct return), never through an LB.
 */
import type { ChildProcess } from 'node:child_process';
import { addNetns, inNs, switchWith, veth } from './dataplane-netns.js';

export const VIP_RANGE = '10.1.1.0/24';
export const BACKENDS = { be1: '10.98.0.21', be2: '10.98.0.22', be3: '10.98.0.23' } as const;
export type BackendName = keyof typeof BACKENDS;
const tunnelNs = (role: string) => addNetns(role, 'plbmg');

export type Topology = Record<'client' | 'lbA' | 'lbB' | 'sw' | BackendName, string>;

export async function topology(): Promise<Topology> {
  const ns: Topology = {
    client: await tunnelNs('client'),
    lbA: await tunnelNs('lbA'),
    lbB: await tunnelNs('lbB'),
    sw: await tunnelNs('sw'),
    be1: await tunnelNs('be1'),
    be2: await tunnelNs('be2'),
    be3: await tunnelNs('be3'),
  };
  await switchWith(ns.sw, [
    [ns.lbA, '10.98.0.1'],
    [ns.lbB, '10.98.0.2'],
    [ns.client, '10.98.0.100'],
    ...(Object.keys(BACKENDS) as BackendName[]).map((b) => [ns[b], BACKENDS[b]] as const),
  ]);
  await inNs(ns.client, 'ip', 'addr', 'add', '10.90.0.1/32', 'dev', 'lo');
  await inNs(ns.client, 'sysctl', '-qw', 'net.ipv4.ip_forward=1');
  for (const [i, lb] of [ns.lbA, ns.lbB].entries()) {
    const n = i + 1;
    await veth(ns.client, `to${n}`, lb, 'eth0');
    await inNs(ns.client, 'ip', 'addr', 'add', `10.90.${n}.1/30`, 'dev', `to${n}`);
    await inNs(lb, 'ip', 'addr', 'add', `10.90.${n}.2/30`, 'dev', 'eth0');
    await inNs(lb, 'ip', 'route', 'add', '10.90.0.0/16', 'via', `10.90.${n}.1`);
  }
  for (const b of Object.keys(BACKENDS) as BackendName[]) {
    await inNs(ns[b], 'ip', 'route', 'add', 'default', 'via', '10.98.0.100');
  }
  return ns;
}

/** Sends the client's traffic for the VIP range through one LB (what an ECMP rehash does to a flow). */
export const via = (ns: Topology, lb: 'lbA' | 'lbB') =>
  inNs(
    ns.client,
    'ip',
    'route',
    'replace',
    VIP_RANGE,
    'via',
    lb === 'lbA' ? '10.90.1.2' : '10.90.2.2',
    'src',
    '10.90.0.1',
  );

export interface ConnectionResult {
  readonly port: number;
  readonly answer?: string;
  readonly error?: string;
}

/** Talks to `dataplane-tunnel-client.mjs`: one line to every long-lived connection, their answers. */
export function longLived(child: ChildProcess) {
  let buffer = '';
  const waiting: ((results: ConnectionResult[]) => void)[] = [];
  child.stdout?.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    for (let at = buffer.indexOf('\n'); at >= 0; at = buffer.indexOf('\n')) {
      const line = buffer.slice(0, at);
      buffer = buffer.slice(at + 1);
      if (line.startsWith('[')) waiting.shift()?.(JSON.parse(line) as ConnectionResult[]);
    }
  });
  return {
    ask(): Promise<ConnectionResult[]> {
      const answer = new Promise<ConnectionResult[]>((resolve) => waiting.push(resolve));
      child.stdin?.write('go\n');
      return answer;
    },
    close: () => child.stdin?.write('close\n'),
  };
}

/** The backend that answered (the first word of its line). */
export const backendOf = (r: ConnectionResult) => r.answer?.split(' ')[0];
