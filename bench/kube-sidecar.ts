/**
 * The latency probe of `npm run bench:kube`: the Kubernetes source (every LB pod a candidate, pod
 * IPs as targets, like `bgp.nextHop: pod`) and the EndpointSlice backends, exactly as the sidecar
 * builds them. It prints one JSON line per change it sees, with the time the desired state
 * reflected it. (The sidecar's RSS and CPU are measured on the shipped `portlb sidecar`.)
 */
import { KubeConfig } from '@kubernetes/client-node';
import { kubeMetrics } from '../src/kube/metrics.js';
import { createLogger } from '../src/runtime/logger.js';
import { createMetrics } from '../src/runtime/metrics.js';
import { createEndpointSliceBackends } from '../src/sources/kubernetes/backends.js';
import { createKubernetesSource } from '../src/sources/kubernetes/source.js';

const kubeConfig = new KubeConfig();
kubeConfig.loadFromFile(process.env.BENCH_KUBECONFIG ?? '');
const logger = createLogger('warn');
const metrics = kubeMetrics(createMetrics({ defaults: false }).registry);
const now = () => performance.timeOrigin + performance.now();

let pending = false;
const report = async () => {
  // Coalesce a burst of watch events into one evaluation, as the loop's trigger would.
  if (pending) return;
  pending = true;
  await Promise.resolve();
  pending = false;
  const routes = await source.desired().catch(() => undefined);
  if (routes === undefined) return;
  const healthy = routes[0]?.candidates.filter((c) => c.healthy).length ?? 0;
  process.stdout.write(`${JSON.stringify({ at: now(), healthy })}\n`);
};

const source = createKubernetesSource({
  kubeConfig,
  namespace: 'bench',
  lbPodSelector: 'app=portlb-lb',
  services: [{ name: 'web', vip: '10.1.1.0/24' }],
  targetOf: (pod) => pod.podIp,
  relistMs: 300_000,
  logger,
  metrics,
  onChange: () => void report(),
});
const backends = createEndpointSliceBackends({
  kubeConfig,
  services: [{ name: 'web', namespace: 'bench', service: 'web' }],
  relistMs: 300_000,
  logger,
  metrics,
});

const t0 = now();
await source.start();
await backends.start?.();
const routes = await source.desired();
process.stdout.write(
  `${JSON.stringify({
    ready: true,
    syncMs: Math.round(now() - t0),
    candidates: routes[0]?.candidates.length ?? 0,
    backends: backends.backends('web').length,
  })}\n`,
);
process.on('SIGTERM', () => {
  void Promise.all([source.stop(), backends.stop?.()]).then(() => process.exit(0));
});
