import type { Config } from '../config/load.js';

/** One address:port that serves a service: what the health probe and the data plane send traffic to. */
export interface Backend {
  readonly address: string;
  readonly port: number;
  /** The port's name (from the Service) or the config entry's name. */
  readonly name?: string | undefined;
  /** The node the endpoint runs on, when Kubernetes says. */
  readonly nodeName?: string | undefined;
}

/**
 * Where a service's backends come from: a static list, or the Service's ready EndpointSlice
 * endpoints. The health probe and the data-plane controllers read this and nothing else.
 */
export interface BackendSource {
  /** The current backends of a configured service, ordered; empty when none is ready. */
  backends(service: string): Backend[];
  /** Called with the service's name whenever its backend set changes. */
  onChange(listener: (service: string) => void): () => void;
  start?(): Promise<void>;
  stop?(): Promise<void>;
}

/** Backends from `services[].backends.static`; services with Kubernetes backends have none here. */
export function createStaticBackends(config: Pick<Config, 'services'>): BackendSource {
  const byService = new Map<string, Backend[]>();
  for (const service of config.services) {
    if ('static' in service.backends) {
      byService.set(
        service.name,
        service.backends.static.map((b) => ({
          address: b.address,
          port: b.port,
          ...(b.name && { name: b.name }),
        })),
      );
    }
  }
  return {
    backends: (service) => [...(byService.get(service) ?? [])],
    onChange: () => () => {},
  };
}

/** Each service from where its config says: its static list, or the Kubernetes source. */
export function selectBackends(config: Pick<Config, 'services'>, kubernetes?: BackendSource): BackendSource {
  const statics = createStaticBackends(config);
  if (kubernetes === undefined) return statics;
  const isStatic = new Set(config.services.filter((s) => 'static' in s.backends).map((s) => s.name));
  return {
    backends: (service) => (isStatic.has(service) ? statics : kubernetes).backends(service),
    onChange: (listener) => kubernetes.onChange(listener),
    start: async () => kubernetes.start?.(),
    stop: async () => kubernetes.stop?.(),
  };
}
