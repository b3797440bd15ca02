import { join } from 'node:path';
import { routerTable } from '../../src/lab/fib.js';
import type { Lab } from '../../src/lab/lab.js';
import { ROUTE_REFLECTORS } from '../../src/lab/layout.js';
import { frrRrSessions, gobgpSessions, type SessionStatus } from '../../src/lab/sessions.js';

/** Every session both route reflectors report, with what each took and refused. */
export async function reflectorSessions(lab: Lab): Promise<SessionStatus[]> {
  const out: SessionStatus[] = [];
  for (const rr of ROUTE_REFLECTORS) {
    const ns = lab.names.rr(rr);
    out.push(
      ...(rr.flavor === 'gobgp'
        ? await gobgpSessions(rr.name, ns)
        : await frrRrSessions(rr.name, ns, join(lab.store.dir, rr.name))),
    );
  }
  return out;
}

/** The router's BGP routes as `dst via hop,hop`, sorted: one string to compare over time. */
export async function routerSnapshot(lab: Lab): Promise<string[]> {
  return (await routerTable(lab.names.router)).map((r) => `${r.dst} via ${r.nextHops.join(',')}`).sort();
}
