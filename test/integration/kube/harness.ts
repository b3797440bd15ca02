/**
 * A real etcd + kube-apiserver on loopback for the integration tests: random ports, a temp dir,
 * RBAC and service-account tokens on, and a static admin token. The binaries come from
 * scripts/build-kube.sh (scripts/setup.sh runs it); nothing here builds or downloads anything.
 * Processes are stopped by the PIDs this harness started, never by name.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, openSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';

export const KUBE_CACHE = process.env.PORTLB_KUBE_CACHE ?? '/var/cache/portlb/kube';
const ETCD_BIN = process.env.ETCD_BIN ?? join(KUBE_CACHE, 'bin', 'etcd');
const APISERVER_BIN = process.env.KUBE_APISERVER_BIN ?? join(KUBE_CACHE, 'bin', 'kube-apiserver');

export interface KubectlResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface KubeTestServer {
  /** `https://127.0.0.1:PORT` */
  readonly server: string;
  readonly caFile: string;
  readonly adminToken: string;
  /** A KubeConfig for the static admin (system:masters). */
  readonly admin: KubeConfig;
  kubeConfigFor(token: string): KubeConfig;
  /** Creates a namespace and its `default` ServiceAccount (no controller-manager runs here to do it). */
  createNamespace(name: string): Promise<void>;
  /** Creates a ServiceAccount unless it exists (namespaces made by manifests lack `default`). */
  ensureServiceAccount(namespace: string, name: string): Promise<void>;
  /** Creates the ServiceAccount if missing and mints a token for it with the TokenRequest API. */
  serviceAccountToken(namespace: string, name: string, expirationSeconds?: number): Promise<string>;
  kubectl(args: readonly string[], options?: { token?: string }): Promise<KubectlResult>;
  /** Kills kube-apiserver (etcd keeps the data): the API outage case. */
  stopApiServer(): Promise<void>;
  /** Starts kube-apiserver again on the same port. */
  startApiServer(): Promise<void>;
  /** SIGSTOP / SIGCONT kube-apiserver: connections stay open and nothing answers (a silent stall). */
  pauseApiServer(paused: boolean): void;
  /** Measured start time of etcd + kube-apiserver, for the record. */
  readonly startMs: number;
  stop(): Promise<void>;
}

/** Fails with the fix when the binaries are not built, instead of a confusing spawn error. */
export function assertKubeBinaries(): void {
  for (const bin of [ETCD_BIN, APISERVER_BIN]) {
    if (!existsSync(bin)) {
      throw new Error(
        `${bin} is missing: run scripts/build-kube.sh (scripts/setup.sh and scripts/test.sh run it) ` +
          'to build kube-apiserver and etcd into PORTLB_KUBE_CACHE',
      );
    }
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

const started = new Set<ChildProcess>();
// A crashed test run must not leave servers behind; these are only the PIDs this module spawned.
process.once('exit', () => {
  for (const child of started) child.kill('SIGKILL');
});

function launch(bin: string, args: string[], logFile: string): ChildProcess {
  const out = openSync(logFile, 'a');
  const child = spawn(bin, args, { stdio: ['ignore', out, out] });
  started.add(child);
  child.once('exit', () => started.delete(child));
  return child;
}

async function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

async function tail(file: string, lines = 30): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.split('\n').slice(-lines).join('\n');
}

async function waitFor(
  what: string,
  child: ChildProcess,
  logFile: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${what} exited early:\n${await tail(logFile)}`);
    if (await check().catch(() => false)) return;
    await sleep(100);
  }
  throw new Error(`${what} not ready after ${timeoutMs} ms:\n${await tail(logFile)}`);
}

function run(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<KubectlResult> {
  return new Promise((resolve) => {
    execFile(cmd, args, { env, timeout: 30_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

export async function startKube(): Promise<KubeTestServer> {
  assertKubeBinaries();
  const t0 = performance.now();
  const dir = await mkdtemp(join(tmpdir(), 'portlb-kube-'));
  const certDir = join(dir, 'certs');
  const etcdData = join(dir, 'etcd');
  await mkdir(certDir);
  await mkdir(etcdData, { mode: 0o700 });
  const [etcdPort, peerPort, apiPort] = [await freePort(), await freePort(), await freePort()];
  const etcdUrl = `http://127.0.0.1:${etcdPort}`;
  const peerUrl = `http://127.0.0.1:${peerPort}`;
  const etcdLog = join(dir, 'etcd.log');
  const apiLog = join(dir, 'kube-apiserver.log');

  const etcd = launch(
    ETCD_BIN,
    [
      '--name=test',
      `--data-dir=${etcdData}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=test=${peerUrl}`,
      '--initial-cluster-state=new',
      '--unsafe-no-fsync',
      '--log-level=warn',
    ],
    etcdLog,
  );
  let apiserver: ChildProcess | undefined;
  try {
    await waitFor('etcd', etcd, etcdLog, async () => (await fetch(`${etcdUrl}/health`)).ok, 30_000);

    // The service-account signing key: the TokenRequest API needs it.
    const key = join(dir, 'sa.key');
    const { generateKeyPairSync } = await import('node:crypto');
    const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
    await writeFile(key, pair.privateKey.export({ type: 'pkcs1', format: 'pem' }));
    await writeFile(join(dir, 'sa.pub'), pair.publicKey.export({ type: 'spki', format: 'pem' }));
    await chmod(key, 0o600);
    const adminToken = randomBytes(24).toString('hex');
    await writeFile(join(dir, 'tokens.csv'), `${adminToken},admin,admin-uid,"system:masters"\n`, {
      mode: 0o600,
    });
    const server = `https://127.0.0.1:${apiPort}`;
    const caFile = join(certDir, 'apiserver.crt');

    const startApiServer = async () => {
      apiserver = launch(
        APISERVER_BIN,
        [
          '--bind-address=127.0.0.1',
          '--advertise-address=127.0.0.1',
          `--secure-port=${apiPort}`,
          `--cert-dir=${certDir}`,
          `--etcd-servers=${etcdUrl}`,
          '--service-account-issuer=https://kubernetes.default.svc',
          `--service-account-key-file=${join(dir, 'sa.pub')}`,
          `--service-account-signing-key-file=${key}`,
          '--authorization-mode=RBAC',
          `--token-auth-file=${join(dir, 'tokens.csv')}`,
          '--service-cluster-ip-range=10.96.0.0/16',
          // One small API server per test file on a 2-core machine: keep it lean.
          '--profiling=false',
          '--watch-cache=true',
        ],
        apiLog,
      );
      const child = apiserver;
      await waitFor(
        'kube-apiserver',
        child,
        apiLog,
        async () => {
          const result = await run(
            'curl',
            ['-sf', '--max-time', '2', '--cacert', caFile, `${server}/readyz`],
            {
              ...process.env,
              NO_PROXY: '127.0.0.1',
            },
          );
          return result.code === 0;
        },
        120_000,
      );
    };
    await startApiServer();

    const kubeConfigFor = (token: string): KubeConfig => {
      const kc = new KubeConfig();
      kc.loadFromOptions({
        clusters: [{ name: 'test', server, caFile }],
        users: [{ name: 'user', token }],
        contexts: [{ name: 'test', cluster: 'test', user: 'user' }],
        currentContext: 'test',
      });
      return kc;
    };
    const admin = kubeConfigFor(adminToken);
    const core = admin.makeApiClient(CoreV1Api);

    const ensureServiceAccount = async (namespace: string, name: string) => {
      try {
        await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name } } });
      } catch (error) {
        if ((error as { code?: number }).code !== 409) throw error;
      }
    };

    const startMs = Math.round(performance.now() - t0);
    return {
      server,
      caFile,
      adminToken,
      admin,
      startMs,
      kubeConfigFor,
      ensureServiceAccount,
      async createNamespace(name) {
        await core.createNamespace({ body: { metadata: { name } } });
        await ensureServiceAccount(name, 'default');
      },
      async serviceAccountToken(namespace, name, expirationSeconds = 3600) {
        await ensureServiceAccount(namespace, name);
        const result = await core.createNamespacedServiceAccountToken({
          name,
          namespace,
          body: { spec: { audiences: [], expirationSeconds } },
        });
        const token = result.status?.token;
        if (!token) throw new Error(`no token for ${namespace}/${name}`);
        return token;
      },
      kubectl(args, options = {}) {
        return run(
          'kubectl',
          [
            '--server',
            server,
            '--certificate-authority',
            caFile,
            '--token',
            options.token ?? adminToken,
            ...args,
          ],
          { ...process.env, KUBECONFIG: join(dir, 'no-kubeconfig'), NO_PROXY: '127.0.0.1' },
        );
      },
      stopApiServer: () => stopChild(apiserver),
      pauseApiServer: (paused) => void apiserver?.kill(paused ? 'SIGSTOP' : 'SIGCONT'),
      startApiServer,
      async stop() {
        apiserver?.kill('SIGCONT');
        await stopChild(apiserver);
        await stopChild(etcd);
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await stopChild(apiserver);
    await stopChild(etcd);
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}
