/**
 * A reason the controller cannot start that a person can act on: printed as one line
 * (no stack trace), then the process exits with `exitCode`.
 */
export class StartupError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'StartupError';
  }
}
