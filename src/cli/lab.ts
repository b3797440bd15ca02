import type { Command } from 'commander';
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
    .action((o: UpFlags) =>
      exitFor(
        (async () => {
          requireRoot();
          const { bfdInterval, ...rest } = o;
          await labUp({ dir: dirOf(), ...rest, bfdIntervalMs: bfdInterval, progress });
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
    .option('--graceful', 'LB: SIGTERM to the sidecar (withdraw, drain, exit)')
    .action((target: string, o: { graceful?: boolean }) =>
      exitFor(
        (async () => {
          requireRoot();
          const how = /^node\d+$/.test(target) ? 'link-down' : o.graceful ? 'term' : 'kill';
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
