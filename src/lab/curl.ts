import { ConfigError } from '../errors.js';
import { run } from '../system/exec.js';
import type { Lab } from './lab.js';
import { CLIENT_IP } from './layout.js';
import type { LabState } from './state.js';
import { parseAnswer } from './web.js';

/** One request from the client through the VIP: who answered it. */
export interface Answered {
  readonly status: number;
  /** The LB pod whose source NAT the backend saw; undefined when none of the lab's. */
  readonly lb?: string;
  readonly node?: string;
  readonly from?: string;
  readonly backend?: string;
}

/** The first address of a service's VIP range, the one the client asks. */
export function serviceAddress(state: LabState, service: string): string {
  const vip = state.services.find((s) => s.name === service)?.vip;
  if (vip === undefined) throw new ConfigError(`no service ${service}; see portlb lab status`);
  const [network] = vip.split('/');
  return (network ?? vip).replace(/\.0$/, '.1');
}

const STATUS = /\t(\d{3})\n/;

/** Splits curl's output (each body followed by `\tCODE\n`) into the answers, in order. */
export function parseCurl(state: LabState, output: string): Answered[] {
  const out: Answered[] = [];
  let rest = output;
  for (let m = STATUS.exec(rest); m !== null; m = STATUS.exec(rest)) {
    const body = rest.slice(0, m.index);
    rest = rest.slice(m.index + m[0].length);
    const answer = parseAnswer(body);
    const lb = answer && state.lbs.find((l) => l.podIp === answer.from);
    out.push({
      status: Number(m[1]),
      ...(answer && { backend: answer.backend, from: answer.from }),
      ...(lb && { lb: lb.id, node: `node${lb.node}` }),
    });
  }
  return out;
}

/**
 * `count` requests from the client namespace to the service's VIP, each on a new connection (a
 * new source port, so the router's L4 hash may pick another LB each time): router -> ECMP ->
 * node -> LB pod -> backend, and back.
 */
export async function labCurl(lab: Lab, service: string, count: number): Promise<Answered[]> {
  const url = `http://${serviceAddress(lab.store.state, service)}/`;
  // curl exits non-zero when its last transfer failed; its output still has every answer.
  const argv = ['sh', '-c', 'curl "$@" || true', 'curl', '-s', '-m', '2', '-H', 'Connection: close'];
  const output = await run([...argv, '-w', '\t%{http_code}\n', ...Array.from({ length: count }, () => url)], {
    ns: lab.names.client,
    timeoutMs: 5000 + count * 2500,
  });
  return parseCurl(lab.store.state, output);
}

export function formatCurl(lab: Lab, service: string, answers: readonly Answered[]): string {
  const url = `http://${serviceAddress(lab.store.state, service)}/`;
  const lines = [`GET ${url} x${answers.length} from the client (${CLIENT_IP}), a new connection each:`];
  const byLb = new Map<string, number>();
  const byBackend = new Map<string, number>();
  answers.forEach((a, i) => {
    const who =
      a.backend === undefined
        ? 'no answer'
        : `LB ${a.lb ?? `? (from ${a.from})`}${a.node ? ` (${a.node}, ${a.from})` : ''} -> backend ${a.backend}`;
    lines.push(`  ${String(i + 1).padStart(3)}  ${a.status === 0 ? 'failed' : a.status}  ${who}`);
    if (a.lb) byLb.set(a.lb, (byLb.get(a.lb) ?? 0) + 1);
    if (a.backend) byBackend.set(a.backend, (byBackend.get(a.backend) ?? 0) + 1);
  });
  const counts = (m: Map<string, number>) =>
    [...m.entries()]
      .sort()
      .map(([k, v]) => `${k} ${v}`)
      .join(', ') || 'none';
  lines.push(`by LB: ${counts(byLb)}; by backend: ${counts(byBackend)}`);
  return `${lines.join('\n')}\n`;
}
