import { status } from '@grpc/grpc-js';
import { statusCode, statusDetails } from './gateway-client';

describe('statusDetails', () => {
  test("is the controller's own message", () => {
    expect(statusDetails({ code: status.UNAUTHENTICATED, details: 'join token has expired', message: '16 UNAUTHENTICATED: join token has expired' })).toBe('join token has expired');
  });

  test("drops grpc-js's wrapping of connection failures", () => {
    expect(statusDetails({ code: status.UNAVAILABLE, details: 'No connection established. Last error: Error: connect ECONNREFUSED 127.0.0.1:7443. Resolution note: ' })).toBe('connect ECONNREFUSED 127.0.0.1:7443');
  });

  test('falls back to the message of a plain error', () => {
    expect(statusDetails(new Error('no Welcome within 30 s of Hello'))).toBe('no Welcome within 30 s of Hello');
    expect(statusCode(new Error('x'))).toBeUndefined();
    expect(statusCode({ code: status.PERMISSION_DENIED })).toBe(status.PERMISSION_DENIED);
  });
});
