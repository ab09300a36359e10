/** Why an enrollment was refused; the gateway maps it to a gRPC status code. */
export type EnrollmentRefusal = 'unauthenticated' | 'invalid_argument' | 'already_exists';

/** An enrollment the controller refuses; `message` is written for the operator at the agent. */
export class EnrollmentError extends Error {
  constructor(
    readonly refusal: EnrollmentRefusal,
    message: string,
  ) {
    super(message);
    this.name = 'EnrollmentError';
  }
}

/** The exact messages for refused join tokens (tests and the agent's docs quote them). */
export const TOKEN_UNKNOWN = 'join token is unknown';
export const TOKEN_USED = 'join token has already been used';
export function tokenExpiredMessage(expiresAt: Date): string {
  return `join token expired at ${expiresAt.toISOString()}`;
}
