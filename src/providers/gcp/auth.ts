import { GoogleAuth, OAuth2Client } from 'google-auth-library';

/**
 * The environment variable with a static OAuth token: TEST ONLY. It lets the tests and the bench
 * drive the real clients against the Compute stand-in and the Pub/Sub emulator without
 * Application Default Credentials (which would ask the metadata server). Never set it in a
 * deployment: there the node's or the function's service account is used.
 */
export const TEST_TOKEN_ENV = 'PORTLB_GCP_TEST_TOKEN';

/** Something that signs a Google API request: what the Pub/Sub publisher needs of an auth client. */
export interface RequestSigner {
  getRequestHeaders(url?: string): Promise<Headers | Record<string, string>>;
}

/** A client holding one fixed token (tests and the bench). */
export function staticTokenAuth(token: string): OAuth2Client {
  const auth = new OAuth2Client();
  auth.setCredentials({ access_token: token, expiry_date: Date.now() + 24 * 3_600_000 });
  return auth;
}

/** The static test token when its variable is set; undefined otherwise (the SDKs use ADC). */
export function testTokenAuth(env: NodeJS.ProcessEnv = process.env): OAuth2Client | undefined {
  const token = env[TEST_TOKEN_ENV];
  return token ? staticTokenAuth(token) : undefined;
}

/** Application Default Credentials for a REST call outside the Compute SDK (Pub/Sub publish). */
export function defaultAuth(scope: string): RequestSigner {
  return new GoogleAuth({ scopes: [scope] });
}
