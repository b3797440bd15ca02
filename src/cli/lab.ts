import type { Command } from 'commander';
import { addBackend, removeBackend } from '../lab/backends.js';
import { formatCurl, labCurl } from '../lab/curl.js';
import { FAULTS, type Fault, injectFault } from '../lab/faults.js';
import { kill, labDown, labUp, openLab, reviveTarget, scaleService } from '../lab/lab.js';
import { labDir } from '../lab/state.js';
import { formatStatus, labStatus } from '../lab/status.js';
import { exitFor } from './exit.js';

const progress = (message: string): void => {
  process.stderr.write(`lab: ${message}\n`);
};

function requireRoot(): void {
  if (process.getuid?.() !== 0) {
    process.stderr.write('portlb lab: needs root (network namespaces, FRR, exabgp)\n');
    process.exit(2);
  }
}

const int = (v: string): number => Number.parseInt(v, 10);

interface UpFlags {
  nodes: number;
  lbs: number;
  backends: number;
  holdTime: number;
  prefix: string;
  md5?: boolean;
  bfd?: boolean;
  bfdInterval?: number;
  images?: boolean;
  drain?: number;
  linkMbit?: number;
}

/** `portlb lab ...`: the paper's netns topology on this machine (see docs/lab.md). */
export function registerLab(program: Command): void {
  const lab = program
    .command('lab')
    .description('a network-namespace lab: router, two route reflectors, nodes with LB pods, backends')
    .option(
      '--dir <dir>',
      'run directory holding the lab state (default /run/portlb-lab, or PORTLB_LAB_DIR)',
    );
  const dirOf = (): string => labDir(lab.opts<{ dir?: string }>().dir);

  lab
    .command('up')
    .description('build the topology and start every peer; cleans up after itself on failure')
    .option('--nodes <n>', 'node namespaces', int, 4)
    .option('--lbs <n>', 'LB pods of the first service (web, 10.1.1.0/24)', int, 1)
    .option('--backends <n>', 'backend web pods', int, 2)
    .option('--hold-time <s>', 'BGP hold time, seconds', int, 3)
    .option('--prefix <p>', 'namespace name prefix', 'plb-')
    .option('--md5', 'TCP-MD5 on every LB session (a key made in DIR/bgp-md5.key)')
    .option('--bfd', 'BFD: bfdd in every LB pod, BFD on both route reflectors (300 ms x 3)')
    .option('--bfd-interval <ms>', 'with --bfd: the BFD interval, ms', int)
    .option('--drain <s>', "every LB's drain.seconds after the router left it", Number)
    .option('--link-mbit <n>', "a tc rate limit on each node's link (the LB's NIC), Mbit/s", Number)
    .option(
      '--images',
      "LB pods' sidecar and data plane from the built images (podman; scripts/build-images.sh)",
    )
    .action((o: UpFlags) =>
      exitFor(
        (async () => {
          requireRoot();
          const { bfdInterval, drain, linkMbit, ...rest } = o;
          await labUp({
            dir: dirOf(),
            ...rest,
            bfdIntervalMs: bfdInterval,
            drainSeconds: drain,
            linkMbit,
            progress,
          });
          progress(`up; state in ${dirOf()}`);
          return 0;
        })(),
      ),
    );

  lab
    .command('status')
    .description("the router's ECMP table, every BGP session, every LB's state")
    .option('--json', 'print JSON')
    .action((o: { json?: boolean }) =>
      exitFor(
        (async () => {
          const status = await labStatus(await openLab(dirOf()));
          process.stdout.write(o.json ? `${JSON.stringify(status, null, 2)}\n` : formatStatus(status));
          return 0;
        })(),
      ),
    );

  lab
    .command('curl')
    .description(
      'requests from the client to a VIP, a new connection each: which LB and which backend answered',
    )
    .argument('[service]', 'the service', 'web')
    .option('-n, --count <n>', 'requests', int, 8)
    .option('--json', 'print JSON')
    .action((service: string, o: { count: number; json?: boolean }) =>
      exitFor(
        (async () => {
          requireRoot();
          const lab = await openLab(dirOf());
          const answers = await labCurl(lab, service, o.count);
          process.stdout.write(
            o.json ? `${JSON.stringify(answers, null, 2)}\n` : formatCurl(lab, service, answers),
          );
          return answers.every((a) => a.status === 200) ? 0 : 1;
        })(),
      ),
    );

  const backend = lab.command('backend').description('backend pods (nginx) come and go');
  backend
    .command('add')
    .description("a new backend: nginx answering first, then in every LB's rules")
    .action(() =>
      exitFor(
        (async () => {
          requireRoot();
          const j = await addBackend(await openLab(dirOf()), progress);
          progress(`web${j} serves`);
          return 0;
        })(),
      ),
    );
  backend
    .command('remove')
    .description("a backend leaves: out of every LB's rules, then nginx finishes and stops")
    .argument('<backend>', 'web1, web2, ...')
    .action((name: string) =>
      exitFor(
        (async () => {
          requireRoot();
          await removeBackend(await openLab(dirOf()), name, progress);
          progress(`${name} gone`);
          return 0;
        })(),
      ),
    );

  lab
    .command('fault')
    .description(
      "an LB's data plane: nft-fails (every nft transaction fails), flush (its table deleted), clear",
    )
    .argument('<lb>', 'an LB id (web-1)')
    .argument('<fault>', FAULTS.join(' | '))
    .action((id: string, fault: string) =>
      exitFor(
        (async () => {
          requireRoot();
          if (!(FAULTS as readonly string[]).includes(fault)) {
            process.stderr.write(`portlb lab fault: ${fault} is not one of ${FAULTS.join(', ')}\n`);
            return 2;
          }
          progress(await injectFault(await openLab(dirOf()), id, fault as Fault));
          return 0;
        })(),
      ),
    );

  lab
    .command('scale')
    .description('make COUNT LB pods of SERVICE run (a new service gets the next 10.1.N.0/24)')
    .argument('<service>')
    .argument('<count>', 'LB pods', int)
    .action((service: string, count: number) =>
      exitFor(
        (async () => {
          requireRoot();
          await scaleService(await openLab(dirOf()), service, count, progress);
          return 0;
        })(),
      ),
    );

  lab
    .command('kill')
    .description(
      'fail an LB pod (SIGKILL, or --graceful SIGTERM), a node (its link goes down) or an RR (SIGKILL)',
    )
    .argument('<target>', 'an LB id (web-1), a node (node2) or a route reflector (rr-gobgp, rr-frr)')
    .option(
      '--graceful',
      'LB: SIGTERM to its containers (withdraw, wait until the router left it, drain, exit)',
    )
    .option('--pod', 'LB: the whole pod at once (SIGKILL, and its network goes down)')
    .action((target: string, o: { graceful?: boolean; pod?: boolean }) =>
      exitFor(
        (async () => {
          requireRoot();
          const how = /^node\d+$/.test(target) ? 'link-down' : o.graceful ? 'term' : o.pod ? 'pod' : 'kill';
          progress(await kill(await openLab(dirOf()), target, how));
          return 0;
        })(),
      ),
    );

  lab
    .command('revive')
    .description(
      "bring a route reflector back, or a dead node's link (its LBs stay stopped until the next scale)",
    )
    .argument('<target>', 'node2, rr-gobgp, rr-frr')
    .action((target: string) =>
      exitFor(
        (async () => {
          requireRoot();
          await reviveTarget(await openLab(dirOf()), target);
          return 0;
        })(),
      ),
    );

  lab
    .command('down')
    .description('stop every recorded process and delete every recorded namespace')
    .action(() =>
      exitFor(
        (async () => {
          requireRoot();
          const found = await labDown(dirOf(), progress);
          progress(found ? 'down' : `nothing recorded in ${dirOf()}`);
          return 0;
        })(),
      ),
    );
}
