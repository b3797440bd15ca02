import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface Readiness {
  readonly ready: boolean;
  readonly reasons: readonly string[];
  readonly detail?: Record<string, unknown>;
}

export interface HealthServer {
  readonly server: Server;
  /** The bound address (useful when listening on port 0). */
  readonly address: AddressInfo;
  close(): Promise<void>;
}

function splitHostPort(listen: string): { host: string; port: number } {
  const at = listen.lastIndexOf(':');
  const host = listen.slice(0, at).replace(/^\[(.*)\]$/, '$1');
  return { host, port: Number(listen.slice(at + 1)) };
}

/** `/healthz` (the process is alive), `/readyz` (it can do its job, with reasons), `/metrics`. */
export async function startHealthServer(options: {
  listen: string;
  registry: Registry;
  live: () => boolean;
  readiness: () => Readiness;
}): Promise<HealthServer> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'content-type': type }).end(body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'text/plain', 'method not allowed\n');
    if (path === '/healthz') {
      const live = options.live();
      return send(live ? 200 : 503, 'text/plain', live ? 'ok\n' : 'not live\n');
    }
    if (path === '/readyz') {
      const state = options.readiness();
      return send(state.ready ? 200 : 503, 'application/json', `${JSON.stringify(state)}\n`);
    }
    if (path === '/metrics') {
      options.registry
        .metrics()
        .then((text) => send(200, options.registry.contentType, text))
        .catch((error: unknown) => send(500, 'text/plain', `${String(error)}\n`));
      return;
    }
    send(404, 'text/plain', 'not found\n');
  });
  const { host, port } = splitHostPort(options.listen);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    server,
    address: server.address() as AddressInfo,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
