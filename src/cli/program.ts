import { Command, Option } from 'commander';
import { VERSION } from '../system/version.js';
import type { BackendSetupCliOptions } from './backend-setup.js';
import { exitFor } from './exit.js';
import { registerLab } from './lab.js';
import { OBSERVED_FILE_HELP, runPlan } from './plan.js';
import { runRender } from './render.js';
import { runSidecar } from './sidecar.js';
import { runValidate } from './validate.js';

const program = new Command('portlb')
  .description('Route a service VIP range to the nodes hosting healthy load-balancer pods (BGP, AWS, GCP).')
  .version(VERSION, '-V, --version', 'print the version and exit')
  .showHelpAfterError()
  .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));

program
  .command('validate')
  .description('check a config file; exit 0 when valid, 2 with every problem listed')
  .argument('[file]', 'portlb config (YAML); the same as --config')
  .option('-c, --config <file>', 'portlb config (YAML)')
  .option(
    '--no-file-checks',
    "don't check the files it names (TCP-MD5 keys, kubeconfig): for CI without the secrets",
  )
  .action((file: string | undefined, o: { config?: string; fileChecks: boolean }) =>
    exitFor(runValidate({ file, ...o })),
  );

program
  .command('plan')
  .description('show what would change and why, without changing anything')
  .requiredOption('-c, --config <file>', 'portlb config (YAML)')
  .option('--observed <file>', 'routes as they are now (YAML/JSON list, below); none when omitted')
  .addOption(
    new Option('--mode <mode>', 'override the mode (auto resolves with --provider-id)').choices([
      'bgp',
      'aws',
      'gcp',
    ]),
  )
  .option('--provider-id <id>', "the Node's spec.providerID, for mode auto")
  .addOption(
    new Option(
      '--policy <policy>',
      'sync (default: reconcile.policy), upsert-only (never deletes), create-only',
    ).choices(['sync', 'upsert-only', 'create-only']),
  )
  .option('--json', 'print the plan as JSON')
  .addHelpText('after', OBSERVED_FILE_HELP)
  .action((o) => exitFor(runPlan(o)));

program
  .command('sidecar')
  .description('run in the LB pod: keep the VIP routed to healthy LB nodes')
  .requiredOption('-c, --config <file>', 'portlb config (YAML)')
  .option('--once', 'reconcile once, print what was done, and exit')
  .option('--state <file>', 'write routes to this JSON file instead of a network peer (tests, dry runs)')
  .option('--provider-id <id>', "the Node's spec.providerID, for mode auto when Kubernetes is not used")
  .option('--json', 'with --once: print the outcome as JSON')
  .action((o) => exitFor(runSidecar(o)));

program
  .command('node-agent')
  .description(
    "run on every node (DaemonSet, host network): route each VIP to this node's healthy LB pods (ECMP)",
  )
  .requiredOption('-c, --config <file>', 'portlb config (YAML), with kubernetes.namespace set')
  .option(
    '--netns <name>',
    'program routes in this network namespace (default: nodeAgent.netns, else its own)',
  )
  .action(async (o: { config: string; netns?: string }) =>
    exitFor((await import('./node-agent.js')).runNodeAgent(o)),
  );

program
  .command('dataplane')
  .description(
    "run in the LB pod (its own container): keep the data plane (nftables, or keepalived for ipvs) equal to the services' ready backends",
  )
  .requiredOption('-c, --config <file>', 'portlb config (YAML)')
  .option('--once', 'sync once from the static backends, print what was done, and exit')
  .option('--netns <name>', 'write the rules in this network namespace instead of its own')
  .option('--json', 'print the outcome as JSON')
  .action(async (o: { config: string; once?: boolean; netns?: string; json?: boolean }) =>
    exitFor((await import('./dataplane.js')).runDataPlane(o)),
  );

program
  .command('backend-setup')
  .description(
    'on a backend, for dataPlane.forwarding tunnel: the decapsulating device, the VIP as a local address, rp_filter, the port map (needs CAP_NET_ADMIN)',
  )
  .requiredOption('-c, --config <file>', 'portlb config (YAML): dataPlane.tunnel and the services')
  .option('--address <ip>', "this backend's own address (default: POD_IP)")
  .option('--port <port>', 'the port it listens on (default: its static entry, else the service port)')
  .option('--netns <name>', 'set up this network namespace instead of its own')
  .option('--remove', 'take it all away again')
  .option('--json', 'print what was done as JSON')
  .action(async (o: BackendSetupCliOptions) =>
    exitFor((await import('./backend-setup.js')).runBackendSetup(o)),
  );

program
  .command('bgp-api')
  .description("exabgp's API process: relays exabgp's stdin/stdout to the sidecar's socket")
  .requiredOption('--socket <path>', "the sidecar's exabgp API socket")
  .action(async (o: { socket: string }) => (await import('../providers/bgp/relay.js')).runRelay(o.socket));

program
  .command('render')
  .description("print a peer's config: exabgp | bfdd | rr | router | keepalived | nftables (the data plane)")
  .argument('<peer>', 'exabgp | bfdd | rr | router | keepalived | nftables')
  .requiredOption('-c, --config <file>', 'portlb config (YAML)')
  .option('--flavor <flavor>', 'rr: gobgp | frr')
  .option('--node <name>', 'exabgp, bfdd: which targets entry to render for')
  .option('--router-id <address>', 'rr: which route reflector (an address in bgp.peers)')
  .option('--socket <path>', 'exabgp: the unix socket `portlb bgp-api` relays to')
  .action((peer: string, o) => exitFor(runRender(peer, o)));

registerLab(program);

export async function main(argv: string[]): Promise<void> {
  await program.parseAsync(argv);
}
