import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '../errors.js';
import { quoted } from '../render/bgp-common.js';
import { peerDir, startRecorded } from './daemons.js';
import type { Lab } from './lab.js';
import { LAB_AS, ORDINARY_POD_SLOT, podIp, ROUTE_REFLECTORS } from './layout.js';
import { addPodNs } from './network.js';

export interface SpeakerRoute {
  readonly prefix: string;
  readonly nextHop: string;
}

export interface Speaker {
  readonly name: string;
  readonly ns: string;
  /** Its pod IP: the address the route reflectors see it peer from. */
  readonly address: string;
  readonly logFile: string;
}

export interface SpeakerOptions {
  /** A DNS label: the pod's name. */
  readonly name: string;
  readonly node: number;
  /** 0, 1, ...: several speakers on one node. */
  readonly index?: number;
  /** A TCP-MD5 key to sign its sessions with: the lab's (labKey) for a compromised LB pod, or a wrong one. */
  readonly key?: string | undefined;
  readonly routes: readonly SpeakerRoute[];
}

/** The key every LB speaker of the lab signs with (lab up --md5). */
export async function labKey(lab: Lab): Promise<string> {
  const file = lab.store.state.md5KeyFile;
  if (file === undefined) throw new ConfigError('the lab has no TCP-MD5 key (lab up --md5)');
  return (await readFile(file, 'utf8')).trim();
}

/**
 * A BGP speaker in an ordinary pod (no LB, no sidecar): exabgp announcing static routes to both
 * route reflectors from its pod IP, inside the LB ranges they listen on. With the lab's key it
 * stands for a compromised LB pod; without it, for any pod at all.
 */
export async function startSpeaker(lab: Lab, o: SpeakerOptions): Promise<Speaker> {
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(o.name))
    throw new ConfigError(`speaker name ${o.name}: not a DNS label`);
  const { store, names: n } = lab;
  const address = podIp(o.node, ORDINARY_POD_SLOT + (o.index ?? 0));
  const ns = n.pod(o.name);
  const dir = await peerDir(join(store.dir, 'pods', o.name));
  await addPodNs(store, n, { ns, node: o.node, port: `p${o.index ?? 0}`, podIp: address });
  const conf = join(dir, 'exabgp.conf');
  await writeFile(conf, exabgpStatic(address, o.key, o.routes), { mode: 0o600 });
  const logFile = join(dir, 'exabgp.log');
  await startRecorded(store, {
    name: `pod:${o.name}`,
    ns,
    match: conf,
    logFile,
    argv: ['exabgp', conf],
    env: {
      ...process.env,
      'exabgp.api.cli': 'false',
      'exabgp.log.destination': 'stdout',
      'exabgp.daemon.user': 'root',
      'exabgp.daemon.drop': 'false',
    },
  });
  return { name: o.name, ns, address, logFile };
}

function exabgpStatic(address: string, key: string | undefined, routes: readonly SpeakerRoute[]): string {
  const out: string[] = [];
  for (const rr of ROUTE_REFLECTORS) {
    out.push(
      `neighbor ${rr.address} {`,
      `    router-id ${address};`,
      `    local-address ${address};`,
      `    local-as ${LAB_AS};`,
      `    peer-as ${LAB_AS};`,
      '    hold-time 3;',
      ...(key === undefined ? [] : [`    md5-password ${quoted(key, 'md5 key')};`]),
      '    family {',
      '        ipv4 unicast;',
      '    }',
      '    static {',
      ...routes.map((r) => `        route ${r.prefix} next-hop ${r.nextHop};`),
      '    }',
      '}',
    );
  }
  return `${out.join('\n')}\n`;
}
