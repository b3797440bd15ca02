import type { Config } from '../config/load.js';
import { DEFAULT_DATA_PLANE } from '../config/schema.js';
import { ConfigError } from '../errors.js';
import { createStaticBackends } from '../sources/backends.js';
import { checkBackends, type PlaneModel, planeModel } from './model.js';
import { renderKeepalived } from './render-keepalived.js';
import { renderNftables } from './render-nftables.js';
import { backendLimits } from './tunnel.js';

/**
 * The model `portlb render` prints from a config: its static backends, checked as the controller
 * checks them (a bad list is an error here, with nothing printed). Services with Kubernetes
 * backends have none until the controller reads their EndpointSlices.
 */
export function modelFromConfig(config: Config): PlaneModel {
  const statics = createStaticBackends(config);
  const dataPlane = config.dataPlane ?? DEFAULT_DATA_PLANE;
  const limits = backendLimits(dataPlane);
  const checks = new Map(
    config.services.map((s) => [s.name, checkBackends(s, statics.backends(s.name), limits)]),
  );
  const problems = config.services.flatMap((service, i) => {
    const check = checks.get(service.name)!;
    return check.ok ? [] : check.problems.map((message) => ({ path: `services[${i}].backends`, message }));
  });
  if (problems.length > 0) throw new ConfigError('backend lists refused', problems);
  return planeModel(config, dataPlane, (name) => {
    const check = checks.get(name);
    return check?.ok ? { backends: check.backends, draining: [] } : undefined;
  });
}

/** What `nft -f` gets (the table replaced whole, in one transaction). */
export const renderNftablesScript = (config: Config): string =>
  renderNftables(modelFromConfig(config)).script;

export const renderKeepalivedConfig = (config: Config): string => renderKeepalived(modelFromConfig(config));
