import { chmod, rm } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import type { Logger } from '../../runtime/logger.js';
import type { Speaker } from './speaker.js';

export interface ApiChannel {
  readonly path: string;
  close(): Promise<void>;
}

/**
 * The sidecar's end of the exabgp process API: a unix socket the relay (exabgp's `process`)
 * connects to. One connection is one exabgp instance; a new one replaces the old, since exabgp
 * only starts a new relay after the old one (or exabgp itself) died.
 */
export async function startApiChannel(options: {
  path: string;
  speaker: Speaker;
  logger: Logger;
}): Promise<ApiChannel> {
  const { path, speaker } = options;
  const log = options.logger.child({ component: 'bgp-api' });
  let current: Socket | undefined;
  const server = createServer((socket) => {
    const writer = {
      write: (line: string) => {
        if (!socket.destroyed) socket.write(line);
      },
    };
    current?.destroy();
    current = socket;
    speaker.attach(writer);
    createInterface({ input: socket, crlfDelay: Number.POSITIVE_INFINITY }).on('line', (line) =>
      speaker.receive(line),
    );
    socket.on('error', (error) =>
      log.debug({ event: 'relay_error', err: error.message }, 'relay socket error'),
    );
    socket.on('close', () => {
      if (current === socket) current = undefined;
      speaker.detach(writer, 'the API relay disconnected (exabgp exited or restarted)');
    });
  });
  await rm(path, { force: true }); // a socket file left by a crashed sidecar would make listen fail
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
  await chmod(path, 0o600);
  log.debug({ event: 'listening', path }, 'exabgp API socket ready');
  return {
    path,
    close: () =>
      new Promise((resolve) => {
        current?.destroy();
        server.close(() => resolve());
      }),
  };
}
