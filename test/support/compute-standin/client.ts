import { OAuth2Client } from 'google-auth-library';
import { type ComputeClients, createComputeClients } from '../../../src/providers/gcp/client.js';
import type { ComputeStandin } from './server.js';

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
