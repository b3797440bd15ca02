/**
 * The sidecar half of `npm run bench:kube`, in its own process so that its RSS and CPU are its
 * own: the Kubernetes source (every LB pod a candidate, pod IPs as targets, like `bgp.nextHop:
 * pod`) and the EndpointSlice backends, exactly as the sidecar builds them. It prints one JSON
 * line per change it sees, with the time the desired state reflected it.
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
// No prom-client default metrics: their event-loop monitor alone costs ~0.6 % of a core at idle,
// and this process measures what the Kubernetes side costs (the real sidecar is measured too).
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
  const at = now();
  // With --expose-gc, each line also says what the heap holds after a full GC (leak hunting).
  globalThis.gc?.();
  const heapMb = globalThis.gc ? Math.round(process.memoryUsage().heapUsed / 1e6) : undefined;
  process.stdout.write(`${JSON.stringify({ at, healthy, heapMb })}\n`);
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
globalThis.gc?.();
const memory = process.memoryUsage();
process.stdout.write(
  `${JSON.stringify({
    ready: true,
    syncMs: Math.round(now() - t0),
    candidates: routes[0]?.candidates.length ?? 0,
    backends: backends.backends('web').length,
    heapUsedMb: Math.round(memory.heapUsed / 1e6),
    externalMb: Math.round(memory.external / 1e6),
  })}\n`,
);
process.on('SIGTERM', () => {
  void Promise.all([source.stop(), backends.stop?.()]).then(() => process.exit(0));
});
