import { join } from 'node:path';
import { z } from 'zod';
import { errorMessage } from '../errors.js';
import { run } from '../system/exec.js';
import { DATAPLANE_PORT } from './config.js';
import { type FibRoute, routerTable } from './fib.js';
import type { Lab } from './lab.js';
import { backendIp, backendName, nodeIp, ROUTE_REFLECTORS, SIDECAR_PORT } from './layout.js';
import { lbRunning } from './lb.js';
import { pidsIn } from './procs.js';
import { frrRrSessions, frrSessions, gobgpSessions, type SessionStatus } from './sessions.js';

export interface LbStatus {
  readonly id: string;
  readonly service: string;
  readonly node: string;
  readonly nextHop: string;
  readonly podIp: string;
  readonly nodeAlive: boolean;
  readonly running: boolean;
  readonly processes: number;
  /** The sidecar's /readyz body, or why it could not be read. */
  readonly readyz?: unknown;
  /** The data plane's /readyz body (its rules), or why it could not be read. */
  readonly dataPlane?: unknown;
}

const dataPlaneReadyz = z.object({
  ready: z.boolean(),
  reasons: z.array(z.string()),
  detail: z.object({
    dataPlane: z.object({
      services: z.record(z.string(), z.object({ ready: z.number(), draining: z.number() })),
      degraded: z.array(z.string()),
    }),
  }),
});

/**
 * One line about an LB's rules from its data plane's /readyz: serving (with how many backends),
 * degraded (serving, but the last change did not make it: the old rules stay), or not ready.
 */
export function dataPlaneSummary(readyz: unknown): string {
  const parsed = dataPlaneReadyz.safeParse(readyz);
  if (!parsed.success) return 'rules: data plane not answering';
  const { ready, reasons, detail } = parsed.data;
  if (!ready) return `rules: NOT SERVING: ${reasons.join('; ')}`;
  const counts = Object.entries(detail.dataPlane.services)
    .map(([name, c]) => `${name} ${c.ready} backend(s)${c.draining > 0 ? ` + ${c.draining} draining` : ''}`)
    .join(', ');
  const degraded = detail.dataPlane.degraded;
  // Degraded: the counts would be what it wants, not what the rules in place have.
  return degraded.length > 0 ? `rules: DEGRADED: ${degraded.join('; ')}` : `rules: ok (${counts})`;
}

export interface LabStatus {
  readonly dir: string;
  readonly prefix: string;
  readonly phase: string;
  readonly services: readonly { name: string; vip: string }[];
  /** The backend pods (nginx), and the tc limits standing in for NICs. */
  readonly backends: readonly { name: string; address: string }[];
  readonly linkMbit?: number | undefined;
  readonly backendMbit?: number | undefined;
  readonly router: readonly FibRoute[];
  readonly sessions: readonly SessionStatus[];
  readonly errors: readonly string[];
  readonly lbs: readonly LbStatus[];
}

async function readyz(ns: string, podIp: string, port = SIDECAR_PORT): Promise<unknown> {
  try {
    const body = await run(['curl', '-s', '-m', '1', `http://${podIp}:${port}/readyz`], {
      ns,
      timeoutMs: 3000,
    });
    try {
      return JSON.parse(body);
    } catch {
      return body.trim();
    }
  } catch (error) {
    return { error: errorMessage(error) };
  }
}

export async function labStatus(lab: Lab): Promise<LabStatus> {
  const { store, names: n } = lab;
  const s = store.state;
  const errors: string[] = [];
  const sessions: SessionStatus[] = [];
  const collect = async (what: string, get: () => Promise<SessionStatus[]>) => {
    try {
      sessions.push(...(await get()));
    } catch (error) {
      errors.push(`${what}: ${errorMessage(error)}`);
    }
  };
  await collect('router', () => frrSessions('router', n.router, join(store.dir, 'router')));
  for (const rr of ROUTE_REFLECTORS) {
    await collect(rr.name, () =>
      rr.flavor === 'gobgp'
        ? gobgpSessions(rr.name, n.rr(rr))
        : frrRrSessions(rr.name, n.rr(rr), join(store.dir, rr.name)),
    );
  }
  let router: FibRoute[] = [];
  try {
    router = await routerTable(n.router);
  } catch (error) {
    errors.push(`router table: ${errorMessage(error)}`);
  }
  const lbs: LbStatus[] = [];
  for (const lb of s.lbs) {
    const running = await lbRunning(store, lb);
    const nodeAlive = !s.deadNodes.includes(lb.node);
    lbs.push({
      id: lb.id,
      service: lb.service,
      node: `node${lb.node}`,
      nextHop: nodeIp(lb.node),
      podIp: lb.podIp,
      nodeAlive,
      running,
      processes: (await pidsIn(n.lb(lb.id))).length,
      ...(running &&
        nodeAlive && {
          readyz: await readyz(n.lb(lb.id), lb.podIp),
          dataPlane: await readyz(n.lb(lb.id), lb.podIp, DATAPLANE_PORT),
        }),
    });
  }
  return {
    dir: store.dir,
    prefix: s.prefix,
    phase: s.phase,
    services: s.services,
    backends: s.backends.map((j) => ({ name: backendName(j), address: backendIp(j) })),
    ...(s.linkMbit !== undefined && { linkMbit: s.linkMbit }),
    ...(s.backendMbit !== undefined && { backendMbit: s.backendMbit }),
    router,
    sessions,
    errors,
    lbs,
  };
}

/** `Established (2 received, 1 accepted, 1 refused; BFD up)`: the refused ones are the LB filter's. */
function sessionDetail(x: SessionStatus): string {
  const counts: string[] = [];
  if (x.prefixesReceived !== undefined) counts.push(`${x.prefixesReceived} received`);
  if (x.prefixesAccepted !== undefined) {
    counts.push(`${x.prefixesAccepted} accepted`);
    if (x.prefixesReceived !== undefined) counts.push(`${x.prefixesReceived - x.prefixesAccepted} refused`);
  }
  const parts = [counts.join(', '), x.bfd === undefined ? '' : `BFD ${x.bfd}`].filter((p) => p !== '');
  return `${x.state}${parts.length > 0 ? ` (${parts.join('; ')})` : ''}`;
}

export function formatStatus(st: LabStatus): string {
  const out: string[] = [
    `lab ${st.phase} (${st.dir}, namespaces ${st.prefix}*)`,
    '',
    "router's kernel table (ECMP):",
  ];
  if (st.router.length === 0) out.push('  (no BGP routes)');
  for (const r of st.router) {
    const svc = st.services.find((s) => s.vip === r.dst)?.name;
    out.push(
      `  ${r.dst}${svc ? ` [${svc}]` : ''} proto ${r.protocol ?? '?'}: ${r.nextHops.length} next hop(s)`,
    );
    for (const h of r.nextHops) out.push(`    nexthop via ${h}`);
  }
  out.push('', 'BGP sessions:');
  for (const x of st.sessions)
    out.push(`  ${x.speaker.padEnd(9)} -> ${x.peer.padEnd(15)} ${sessionDetail(x)}`);
  for (const e of st.errors) out.push(`  ! ${e}`);
  out.push('', 'LB pods:');
  for (const lb of st.lbs) {
    const ready =
      lb.readyz && typeof lb.readyz === 'object' && 'ready' in lb.readyz
        ? ` ready=${String(lb.readyz.ready)}`
        : '';
    out.push(
      `  ${lb.id.padEnd(10)} ${lb.node} (next hop ${lb.nextHop}) pod ${lb.podIp} ${lb.nodeAlive ? '' : 'NODE DOWN '}${lb.running ? 'running' : 'stopped'}${ready}`,
    );
    if (lb.running && lb.nodeAlive) out.push(`             ${dataPlaneSummary(lb.dataPlane)}`);
  }
  const limits = [
    st.linkMbit === undefined ? '' : `each node's link ${st.linkMbit} Mbit/s`,
    st.backendMbit === undefined ? '' : `each backend's ${st.backendMbit} Mbit/s`,
  ].filter((x) => x !== '');
  out.push(
    '',
    `backends (nginx): ${st.backends.map((b) => `${b.name} ${b.address}`).join(', ') || 'none'}`,
    ...(limits.length > 0 ? [`tc limits: ${limits.join(', ')}`] : []),
    '(lab curl: which LB and which backend answer the VIP)',
  );
  return `${out.join('\n')}\n`;
}
