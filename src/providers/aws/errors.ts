import { PermanentError, TransientError } from '../../errors.js';

/** What the SDK puts on a service error; read defensively because a network error has none of it. */
interface SdkErrorShape {
  readonly name?: unknown;
  readonly code?: unknown;
  readonly message?: unknown;
  readonly $fault?: unknown;
  readonly $metadata?: { readonly httpStatusCode?: unknown };
}

/** EC2 error codes that mean "slow down" or "try again": retrying helps. */
const transientCodes = new Set([
  'RequestLimitExceeded',
  'Throttling',
  'ThrottlingException',
  'RequestThrottled',
  'TooManyRequestsException',
  'ServiceUnavailable',
  'Unavailable',
  'InternalError',
  'InternalFailure',
  'IdempotentParameterMismatch',
]);

const deniedCodes = new Set([
  'UnauthorizedOperation',
  'AuthFailure',
  'AccessDenied',
  'AccessDeniedException',
]);

/** Socket-level failures: the request may never have reached EC2. */
const networkCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'TimeoutError',
  'RequestTimeout',
  'NetworkingError',
]);

export interface Ec2ErrorDetail {
  /** The EC2 API action, e.g. `ReplaceRoute`; named in messages so an operator knows what to grant. */
  readonly action: string;
  /** What it acted on: `rtb-1/192.0.2.0/24`, an ENI id. */
  readonly resource?: string;
}

export class Ec2TransientError extends TransientError {
  override readonly name = 'Ec2TransientError';
  constructor(
    message: string,
    readonly code: string,
    readonly action: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export class Ec2PermanentError extends PermanentError {
  override readonly name = 'Ec2PermanentError';
  constructor(
    message: string,
    readonly code: string,
    readonly action: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

function shape(error: unknown): SdkErrorShape {
  return typeof error === 'object' && error !== null ? (error as SdkErrorShape) : {};
}

/** The AWS error code (`RouteAlreadyExists`, `AccessDeniedException`), or the socket error code, or `Unknown`. */
export function awsErrorCode(error: unknown): string {
  const e = shape(error);
  if (typeof e.code === 'string' && networkCodes.has(e.code)) return e.code;
  if (typeof e.name === 'string' && e.name !== 'Error') return e.name;
  if (typeof e.code === 'string') return e.code;
  return 'Unknown';
}

export function isEc2Code(error: unknown, ...codes: string[]): boolean {
  if (error instanceof Ec2TransientError || error instanceof Ec2PermanentError)
    return codes.includes(error.code);
  return codes.includes(awsErrorCode(error));
}

/** Throttling, 5xx and failures on the way (no response at all): retrying helps. Any AWS SDK client. */
export function isTransientAwsError(error: unknown, code: string = awsErrorCode(error)): boolean {
  const e = shape(error);
  const status = e.$metadata?.httpStatusCode;
  if (transientCodes.has(code) || networkCodes.has(code)) return true;
  if (typeof status === 'number' && (status >= 500 || status === 429)) return true;
  if (e.$fault === 'server') return true;
  // No HTTP response at all: the request failed on the way (DNS, socket, timeout).
  return e.$metadata === undefined && !(error instanceof TypeError);
}

/** A missing permission: the role needs a grant, and the message should name it. */
export function isDeniedAwsError(code: string): boolean {
  return deniedCodes.has(code);
}

/**
 * Turns an SDK failure into portlb's typed errors, keeping the SDK error as `cause`. Throttling,
 * 5xx and network failures are transient (the loop retries, a Lambda rethrows for EventBridge to
 * retry); everything else repeats until someone changes something, and says what.
 */
export function toEc2Error(error: unknown, detail: Ec2ErrorDetail): Ec2TransientError | Ec2PermanentError {
  if (error instanceof Ec2TransientError || error instanceof Ec2PermanentError) return error;
  const code = awsErrorCode(error);
  const message = typeof shape(error).message === 'string' ? String(shape(error).message) : String(error);
  const on = detail.resource ? ` on ${detail.resource}` : '';
  if (isTransientAwsError(error, code)) {
    return new Ec2TransientError(
      `ec2:${detail.action}${on} failed, will retry (${code}): ${message}`,
      code,
      detail.action,
      {
        cause: error,
      },
    );
  }
  if (isDeniedAwsError(code)) {
    return new Ec2PermanentError(
      `ec2:${detail.action}${on} is not permitted (${code}): grant ec2:${detail.action} to this role`,
      code,
      detail.action,
      { cause: error },
    );
  }
  return new Ec2PermanentError(
    `ec2:${detail.action}${on} failed (${code}): ${message}`,
    code,
    detail.action,
    {
      cause: error,
    },
  );
}

/** Sends one command and maps its failure; the single place adapters call the port through. */
export async function call<T>(detail: Ec2ErrorDetail, send: () => Promise<T>): Promise<T> {
  try {
    return await send();
  } catch (error) {
    throw toEc2Error(error, detail);
  }
}
