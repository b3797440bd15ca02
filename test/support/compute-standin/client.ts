import { OAuth2Client } from 'google-auth-library';
import { type ComputeClients, createComputeClients } from '../../../src/providers/gcp/client.js';
import { type ComputeStandin, startComputeStandin } from './server.js';

/**
 * The real `@google-cloud/compute` clients pointed at the stand-in, with a static-token auth client
 * (no Application Default Credentials, no metadata server: nothing leaves loopback).
 */
export function standinClients(standin: ComputeStandin, project: string): ComputeClients {
  const auth = new OAuth2Client();
  auth.setCredentials({ access_token: 'standin-token', expiry_date: Date.now() + 3_600_000 });
  return createComputeClients({
    project,
    endpoint: standin.url,
    auth,
    callTimeoutMs: 5_000,
    waitTimeoutMs: 5_000,
  });
}

/** A started stand-in with one project and its network `vpc`, running LB instances, and clients. */
export interface StandinLbs {
  readonly standin: ComputeStandin;
  readonly clients: ComputeClients;
  /** The instances' URLs, in the order of their names. */
  readonly instances: string[];
  close(): Promise<void>;
}

export async function standinWithLbs(
  project: string,
  zone: string,
  names: readonly string[],
): Promise<StandinLbs> {
  const standin = await startComputeStandin();
  standin.addProject(project, ['vpc']);
  const instances = names.map((name) =>
    standin.setInstance({ project, zone, name, status: 'RUNNING', canIpForward: true }),
  );
  const clients = standinClients(standin, project);
  return {
    standin,
    clients,
    instances,
    async close() {
      await clients.close();
      await standin.close();
    },
  };
}
