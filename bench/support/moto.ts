import { type ChildProcess, spawn } from 'node:child_process';

/*
 * moto_server (pip `moto[server]`) on a random loopback port, for tests and the benchmark. It binds
 * port 0 and we read the port it printed, so parallel runs never collide. Stopped by PID.
 */

export interface Moto {
  readonly endpoint: string;
  readonly port: number;
  readonly pid: number;
  /** Forgets every resource (POST /moto-api/reset), cheaper than a restart between tests. */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

/** Credentials and region for clients talking to moto; never real ones. */
export const motoClientConfig = (endpoint: string) => ({
  region: 'us-east-1',
  endpoint,
  credentials: { accessKeyId: 'moto', secretAccessKey: 'moto' },
});

function waitForPort(child: ChildProcess, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(
      () => fail(new Error(`moto_server did not start in ${timeoutMs} ms: ${seen}`)),
      timeoutMs,
    );
    const onData = (chunk: Buffer) => {
      seen = (seen + chunk.toString()).slice(-4000);
      const match = /Running on http:\/\/127\.0\.0\.1:(\d+)/.exec(seen);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    };
    const fail = (error: Error) => {
      clearTimeout(timer);
      reject(error);
    };
    // moto logs every request; keep draining both pipes so it never blocks on a full pipe.
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('error', fail);
    child.once('exit', (code) => fail(new Error(`moto_server exited (${code}) before listening: ${seen}`)));
  });
}

export async function startMoto(options: { command?: string; timeoutMs?: number } = {}): Promise<Moto> {
  const child = spawn(options.command ?? 'moto_server', ['-H', '127.0.0.1', '-p', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PYTHONUNBUFFERED: '1' },
  });
  let port: number;
  try {
    port = await waitForPort(child, options.timeoutMs ?? 30_000);
  } catch (error) {
    if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
    throw error;
  }
  const pid = child.pid ?? 0;
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    port,
    pid,
    async reset() {
      const response = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
      if (!response.ok) throw new Error(`moto reset failed: HTTP ${response.status}`);
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      process.kill(pid, 'SIGTERM');
      const timer = setTimeout(() => {
        if (child.exitCode === null) process.kill(pid, 'SIGKILL');
      }, 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}
