import { EC2ServiceException } from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import { PermanentError, TransientError } from '../../../src/errors.js';
import { Ec2PermanentError, Ec2TransientError, toEc2Error } from '../../../src/providers/aws/errors.js';

const sdk = (name: string, status: number) =>
  new EC2ServiceException({
    name,
    message: `${name} happened`,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
  });
const network = (code: string) => Object.assign(new Error(`connect ${code} 127.0.0.1:1`), { code });

describe('toEc2Error', () => {
  it.each([
    ['RequestLimitExceeded', sdk('RequestLimitExceeded', 503)],
    ['Throttling', sdk('Throttling', 400)],
    ['an HTTP 500', sdk('InternalError', 500)],
    ['an unknown 503', sdk('SomethingNew', 503)],
    ['a refused connection', network('ECONNREFUSED')],
    ['a reset connection', network('ECONNRESET')],
    ['a timeout', Object.assign(new Error('timed out'), { name: 'TimeoutError' })],
  ])('%s is transient', (_name, error) => {
    const mapped = toEc2Error(error, { action: 'ReplaceRoute', resource: 'rtb-1/192.0.2.0/24' });
    expect(mapped).toBeInstanceOf(Ec2TransientError);
    expect(mapped).toBeInstanceOf(TransientError);
    expect(mapped.cause).toBe(error);
    expect(mapped.message).toMatch(/^ec2:ReplaceRoute on rtb-1\/192\.0\.2\.0\/24 failed, will retry/);
  });

  it.each([
    ['InvalidRouteTableID.NotFound', /failed \(InvalidRouteTableID\.NotFound\)/],
    ['InvalidNetworkInterfaceID.NotFound', /failed \(InvalidNetworkInterfaceID\.NotFound\)/],
    [
      'UnauthorizedOperation',
      /ec2:CreateRoute on rtb-1 is not permitted \(UnauthorizedOperation\): grant ec2:CreateRoute/,
    ],
    ['AuthFailure', /not permitted \(AuthFailure\)/],
    ['InvalidParameterValue', /failed \(InvalidParameterValue\)/],
  ])('%s is permanent and says what failed', (code, message) => {
    const error = sdk(code, 400);
    const mapped = toEc2Error(error, { action: 'CreateRoute', resource: 'rtb-1' });
    expect(mapped).toBeInstanceOf(Ec2PermanentError);
    expect(mapped).toBeInstanceOf(PermanentError);
    expect(mapped.message).toMatch(message);
    expect((mapped as Ec2PermanentError).code).toBe(code);
    expect(mapped.cause).toBe(error);
  });

  it('treats a programming error (TypeError) as permanent, not as a network failure', () => {
    expect(toEc2Error(new TypeError('x is undefined'), { action: 'DescribeRouteTables' })).toBeInstanceOf(
      Ec2PermanentError,
    );
  });
});
