import type { Config } from '../config/load.js';
import type { DesiredRoute } from '../core/model.js';
import type { Source } from '../core/ports.js';
import { createServiceGates, type ServiceGates } from '../health/services.js';
import { createStaticBackends } from '../sources/backends.js';
import type { KubernetesContext } from '../sources/kubernetes/context.js';
import type { ModeDeps } from './types.js';

/*
 * What the modes in which every LB writes only itself (bgp, gcp) share: the services' health
 * gates, and a source whose desired state is this LB alone.
 */

/** One health gate per service: static backends from the config, or the ready EndpointSlice endpoints. */
export function createOwnGates(deps: ModeDeps): ServiceGates {
  return createServiceGates({
    config: deps.config,
    backends: deps.kubernetes?.backends ?? createStaticBackends(deps.config),
    hasKubernetes: deps.kubernetes !== undefined,
    registry: deps.metrics.registry,
    logger: deps.logger,
    onChange: (service) => deps.trigger(`health ${service}`),
  });
}

/** This LB's desired state: needs no observation, so callers outside a pass may ask it too. */
export type SelfSource = Source & { desired(): Promise<DesiredRoute[]> };

/**
 * Each VIP -> this LB's own target, healthy while its service's gate passes and, with Kubernetes,
 * while its own pod may carry the service (not terminating, node Ready, not disabled, the service
 * among `portlb.io/services`). `withdrawing` makes every VIP unhealthy (shutdown).
 * With no target known yet, each VIP has no candidate.
 */
export function createSelfSource(options: {
  readonly config: Config;
  readonly gates: Pick<ServiceGates, 'gateOf'>;
  readonly kubernetes?: KubernetesContext | undefined;
  readonly target: () => string | undefined;
  readonly withdrawing?: () => string | undefined;
}): SelfSource {
  const { config, gates, kubernetes } = options;
  return {
    async desired(): Promise<DesiredRoute[]> {
      const target = options.target();
      const lifecycle = kubernetes ? await kubernetes.source.desired() : undefined;
      const withdrawing = options.withdrawing?.();
      return config.services.map((s) => {
        if (target === undefined) return { vip: s.vip, service: s.name, candidates: [] };
        const gate = gates.gateOf(s.name);
        const own = lifecycle?.find((r) => r.vip === s.vip)?.candidates[0];
        const podReason =
          lifecycle === undefined
            ? undefined
            : own === undefined
              ? 'this LB pod does not serve the service (see portlb.io/services and kubernetes.lbPodSelector)'
              : own.healthy
                ? undefined
                : own.reason;
        const reasons = [
          ...(withdrawing ? [withdrawing] : []),
          ...(gate.healthy ? [] : [`health gate: ${gate.reason}`]),
          ...(podReason ? [podReason] : []),
        ];
        const reason = reasons.length > 0 ? reasons.join('; ') : undefined;
        return {
          vip: s.vip,
          service: s.name,
          candidates: [{ target, healthy: reason === undefined, ...(reason && { reason }) }],
        };
      });
    },
  };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
