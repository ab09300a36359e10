import { HttpException } from '@nestjs/common';

/**
 * An error a client caused or must know about, rendered by the global exception filter as
 * `{ "error": { "code", "message", "details" } }` with `status`. `code` is a stable word
 * for scripts ("not_found", "already_exists", "invalid_policy", …); `message` is for people.
 */
export class ApiException extends HttpException {
  constructor(
    status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super({ code, message, details }, status);
  }

  /** Extra response headers (e.g. Retry-After), set by the exception filter. */
  responseHeaders: Record<string, string> = {};

  /** Adds response headers; returns this, for `throw new ApiException(…).withHeaders({…})`. */
  withHeaders(headers: Record<string, string>): this {
    Object.assign(this.responseHeaders, headers);
    return this;
  }
}
