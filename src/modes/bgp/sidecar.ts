import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BgpConfig } from '../../config/schema.js';
import { addressFamily, prefix } from '../../core/cidr.js';
import { ConfigError } from '../../errors.js';
import { type ApiChannel, startApiChannel } from '../../providers/bgp/channel.js';
import { createBgpMetrics } from '../../providers/bgp/metrics.js';
import type { Route } from '../../providers/bgp/protocol.js';
import { createBgpProvider } from '../../providers/bgp/provider.js';
import { resolveBgpSelf } from '../../providers/bgp/self.js';
import { createSpeaker } from '../../providers/bgp/speaker.js';
import { createExabgpSupervisor, type ExabgpSupervisor } from '../../providers/bgp/supervisor.js';
import { confirmWithdrawn, realConfirmDeps } from '../../providers/bgp/withdraw-confirm.js';
import { ownEverything } from '../../registry/simple.js';
import { renderExabgpConfig } from '../../render/exabgp.js';
import { createOwnGates, createSelfSource, type SelfSource, sleep } from '../self.js';
import type { ModeDeps, ModeParts } from '../types.js';

const ACK_TIMEOUT_MS = 5000;

/**
 * The relay exabgp runs as its API process: beside the bundle this module is a chunk of
 * (dist/cli/chunks/ -> dist/cli/bgp-relay.mjs), or next to it in the tsc build.
 */
const RELAY =
  ['../bgp-relay.mjs', '../../providers/bgp/relay-main.js']
    .map((path) => fileURLToPath(new URL(path, import.meta.url)))
    .find((path) => existsSync(path)) ?? fileURLToPath(new URL('../bgp-relay.mjs', import.meta.url));

/**
 * The environment exabgp runs with: no CLI pipes (several LB speakers share one filesystem in the
 * lab), logs on stdout for us to collect, and no privilege drop, so that it can reach the
 * sidecar's socket; `bgp.exabgp.env` may override those. Acks and JSON it may not: the announcer
 * counts a route as announced only on exabgp's `done`, and reads session state from its JSON.
 */
export function exabgpEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  return {
    ...process.env,
    'exabgp.api.cli': 'false',
    'exabgp.log.destination': 'stdout',
    'exabgp.daemon.daemonize': 'false',
    'exabgp.daemon.pid': '',
    ...ownUser(),
    'exabgp.daemon.drop': 'false',
    ...extra,
    'exabgp.api.ack': 'true',
    'exabgp.api.encoder': 'json',
  };
}

/**
 * exabgp's `daemon.user`: the user the sidecar runs as. A container may run as a uid with no
 * passwd entry (an arbitrary-UID cluster), where there is no name to give: exabgp then keeps its
 * default, which it only uses to drop privileges, and `daemon.drop` is off.
 */
function ownUser(): Record<string, string> {
  try {
    return { 'exabgp.daemon.user': userInfo().username };
  } catch {
    return {};
  }
}

/**
 * bgp mode: this LB pod announces each VIP with its own node IP as next hop, only while the
 * service's health gate passes. The sidecar owns exabgp: it writes exabgp's config, starts it
 * (and restarts it with backoff), and talks to it through a relay over a unix socket.
 */
export async function createBgpMode({
  config,
  logger,
  metrics,
  trigger,
  kubernetes,
}: ModeDeps): Promise<ModeParts<undefined> & { source: SelfSource }> {
  const bgp = config.bgp;
  if (bgp === undefined)
    throw new ConfigError('mode bgp needs a "bgp" section', [{ path: 'bgp', message: 'missing' }]);
  const self = resolveBgpSelf(config);
  // An IPv6 VIP with an IPv4 next hop needs extended next hops (RFC 8950), which portlb does not
  // configure yet: refuse it before anything is announced rather than have exabgp reject it forever.
  const mismatched = config.services.filter((s) => prefix(s.vip).family !== addressFamily(self.nextHop));
  if (mismatched.length > 0) {
    throw new ConfigError(`bgp mode: next hop ${self.nextHop} is not of the VIPs' address family`, [
      ...mismatched.map((s) => ({
        path: `services[${config.services.indexOf(s)}].vip`,
        message: `${s.vip} needs a next hop of its own family; this node's is ${self.nextHop}`,
      })),
    ]);
  }
  const log = logger.child({ component: 'bgp-mode' });
  const bgpMetrics = createBgpMetrics(metrics);
  let runDir: string | undefined;
  let channel: ApiChannel | undefined;
  let supervisor: ExabgpSupervisor | undefined;
  const speaker = createSpeaker({
    peers: bgp.peers.map((p) => p.address),
    logger,
    metrics: bgpMetrics,
    ackTimeoutMs: ACK_TIMEOUT_MS,
    communities: bgp.communities,
    onChange: trigger,
    onStuck: (command) =>
      supervisor?.restart(`it did not acknowledge "${command}" within ${ACK_TIMEOUT_MS} ms`),
  });
  const gates = createOwnGates({ config, logger, metrics, trigger, kubernetes });

  /** Waits, bounded, until the network says the router no longer sends these routes' VIPs here. */
  async function confirmRouterLeft(
    shutdown: BgpConfig['shutdown'],
    spec: NonNullable<BgpConfig['shutdown']['confirm']>,
    routes: readonly Route[],
  ): Promise<void> {
    const withdrawn = routes.map((r) => ({
      ...r,
      service: config.services.find((s) => s.vip === r.vip)?.name ?? r.vip,
    }));
    const timing = {
      command: spec.command,
      timeoutMs: shutdown.nextHopWaitSeconds * 1000,
      intervalMs: spec.intervalMs,
    };
    const result = await confirmWithdrawn(timing, withdrawn, realConfirmDeps(timing));
    bgpMetrics.withdrawConfirmations.inc({ result: result.confirmed ? 'confirmed' : 'timeout' });
    // Only a confirmation has a confirmation time; a timeout counts in withdrawConfirmations.
    if (result.confirmed) bgpMetrics.withdrawConfirmSeconds.set(result.ms / 1000);
    if (result.confirmed) {
      log.info(
        { event: 'withdraw_confirmed', routes: withdrawn.length, ms: result.ms, attempts: result.attempts },
        'the network confirms the router no longer uses this next hop',
      );
    } else {
      log.warn(
        {
          event: 'withdraw_confirm_timeout',
          pending: result.pending,
          ms: result.ms,
          ...(result.lastProblem !== undefined && { err: result.lastProblem }),
        },
        `no confirmation within ${shutdown.nextHopWaitSeconds} s that the router stopped using this next hop; draining anyway`,
      );
    }
  }
  const gateOf = gates.gateOf;
  const source = createSelfSource({ config, gates, kubernetes, target: () => self.nextHop });

  return {
    source,
    registry: ownEverything(createBgpProvider({ speaker }), config.owner),
    async start() {
      runDir = await mkdtemp(join(tmpdir(), 'portlb-bgp-'));
      const socket = join(runDir, 'api.sock');
      const run = `${process.execPath} ${RELAY} ${socket}`;
      if (/\s/.test(`${process.execPath}${RELAY}${socket}`)) {
        throw new ConfigError(`exabgp cannot run a program whose path has spaces: ${run}`);
      }
      channel = await startApiChannel({ path: socket, speaker, logger });
      const rendered = renderExabgpConfig(config, { run });
      const file = join(runDir, 'exabgp.conf');
      await writeFile(file, rendered.text, { mode: 0o600 });
      log.info(
        {
          event: 'start',
          nextHop: self.nextHop,
          localAddress: self.localAddress,
          routerId: self.routerId,
          config: file,
        },
        'bgp speaker starting',
      );
      supervisor = createExabgpSupervisor({
        command: bgp.exabgp.command,
        args: [file],
        env: exabgpEnv(bgp.exabgp.env),
        logger,
        metrics: bgpMetrics,
      });
      supervisor.start();
      gates.start();
    },
    // While exabgp is away, runs go on as long as the speaker holds routes: they drop from its set
    // what is no longer desired, so that the next exabgp is not told to announce a VIP that failed
    // its health check meanwhile. Holding nothing there is nothing to drop, and a create would only
    // fail: exabgp's arrival triggers the run that makes it.
    canWrite: () => speaker.connected() || speaker.observed().length > 0,
    notReady() {
      const reasons: string[] = [];
      if (!speaker.connected()) {
        const why = supervisor?.status().lastError;
        reasons.push(`exabgp is not connected${why ? `: ${why}` : ''}`);
      }
      const peers = Object.entries(speaker.peers());
      if (!peers.some(([, p]) => p.state === 'up')) {
        const detail = peers.map(([a, p]) => `${a} ${p.state}${p.reason ? ` (${p.reason})` : ''}`).join(', ');
        reasons.push(`no BGP session is up: ${detail}`);
      }
      for (const s of config.services) {
        const gate = gateOf(s.name);
        if (!gate.healthy) reasons.push(`service ${s.name} not announced: ${gate.reason}`);
      }
      return reasons;
    },
    status() {
      return {
        bgp: {
          nextHop: self.nextHop,
          exabgp: supervisor?.status(),
          peers: speaker.peers(),
          announced: speaker.announced(),
        },
        health: Object.fromEntries(config.services.map((s) => [s.name, gateOf(s.name)])),
      };
    },
    async shutdown() {
      await gates.stop();
      const started = Date.now();
      const connected = speaker.connected();
      const announced = speaker.announced();
      const errors = await speaker.set([], {
        cause: 'shutdown',
        reason: 'shutting down: withdraw before exit',
      });
      if (errors.size > 0) {
        const err = [...errors.values()].map(String).join('; ');
        log.warn({ event: 'withdraw_unconfirmed', err }, 'exabgp did not confirm every withdraw');
      } else if (!connected) {
        // exabgp is gone, and its sessions with it: the route reflectors dropped its paths.
        log.info({ event: 'withdrawn', routes: 0 }, 'exabgp is not connected: no session carries our routes');
      } else {
        log.info(
          { event: 'withdrawn', routes: announced.length, ms: Date.now() - started },
          announced.length > 0 ? 'every route withdrawn and acknowledged' : 'nothing was announced',
        );
      }
      const confirm = bgp.shutdown.confirm;
      if (confirm !== undefined && announced.length > 0) {
        await confirmRouterLeft(bgp.shutdown, confirm, announced);
      }
      log.info({ event: 'drain', seconds: config.drain.seconds }, 'draining');
      await sleep(config.drain.seconds * 1000);
    },
    async close() {
      await gates.stop();
      await supervisor?.stop();
      await channel?.close();
      if (runDir !== undefined) await rm(runDir, { recursive: true, force: true });
    },
  };
}
