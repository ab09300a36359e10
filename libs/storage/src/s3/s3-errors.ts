import { STATUS_CODES } from 'node:http';

/** What went wrong in one S3 call, read off an SDK or socket error. */
export interface S3Failure {
  /** The HTTP status, when the service answered. */
  status?: number;
  /** S3's error code (`NoSuchKey`, `SlowDown`…), a socket error code, or the error's name. */
  code: string;
  /** For messages: `500 InternalError`, `ECONNRESET: socket hang up`, plus a hint where one helps. */
  detail: string;
  /** True when the same call may succeed if tried again. */
  transient: boolean;
}

/** Codes S3 and compatible services use for overload and passing trouble, whatever the status. */
const TRANSIENT_CODES: ReadonlySet<string> = new Set([
  'InternalError',
  'ServiceUnavailable',
  'SlowDown',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'BandwidthLimitExceeded',
  // S3's own 400: the body did not arrive fast enough. The next try may have a better network.
  'RequestTimeout',
  'RequestTimeoutException',
  'PriorRequestNotComplete',
  // 409s that S3 asks the client to retry: concurrent conditional writes, a concurrent bucket change.
  'ConditionalRequestConflict',
  'OperationAborted',
  // The SDK's request handler: no connection, or no byte moved, within the configured time.
  'TimeoutError',
]);

/** Socket errors: the connection failed or broke; a new one may not. */
const NETWORK_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'ENETDOWN',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

/** Advice for errors whose fix is not obvious from their code. */
const HINTS: Readonly<Record<string, string>> = {
  NoSuchBucket: 'the bucket does not exist: create it, or correct the location',
  PermanentRedirect: 'the bucket is in another region: set AWS_REGION',
  AuthorizationHeaderMalformed: 'the bucket is in another region, or AWS_REGION is wrong',
  RequestTimeTooSkewed: "this machine's clock is more than 15 minutes off: fix its time (NTP)",
  InvalidObjectState: 'the object is in an archive storage class and must be restored before it can be read',
  CredentialsProviderError: 'check AWS_PROFILE and the shared credentials and config files',
};

/** 403s that are not a matter of permissions, so they are not reported as AccessDeniedError. */
const FORBIDDEN_NOT_DENIED: ReadonlySet<string> = new Set(['RequestTimeTooSkewed', 'InvalidObjectState']);

/** The HTTP status of an SDK error, if the service answered at all. */
export function httpStatusOf(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
}

/** Reads an error thrown by the SDK (a service answer or a socket failure) as an S3Failure. */
export function describeS3Failure(err: unknown): S3Failure {
  const status = httpStatusOf(err);
  const name = err instanceof Error ? err.name : 'Error';
  const message = err instanceof Error ? err.message : String(err);
  // Answers without a body (HEAD) come as "Unknown"/"UnknownError": the status says more.
  const code = socketErrorCode(err, message) ?? (name === 'Unknown' && status !== undefined ? (STATUS_CODES[status] ?? name) : name);
  const transient =
    TRANSIENT_CODES.has(code) ||
    NETWORK_CODES.has(code) ||
    status === 408 ||
    status === 429 ||
    // 501 Not Implemented will not become implemented by asking again.
    (status !== undefined && status >= 500 && status !== 501);
  const what = [status, code === 'Error' ? undefined : code].filter((part) => part !== undefined).join(' ');
  const said = message === code || message === 'UnknownError' ? '' : message;
  const hint = HINTS[code] === undefined ? '' : ` (${HINTS[code]})`;
  return { status, code, detail: [what, said].filter((part) => part !== '').join(': ') + hint, transient };
}

/**
 * ECONNRESET and the like. The SDK turns an error it does not recognise as an Error (one from
 * another realm, as under jest) into `AWS SDK error wrapper for <text>`, so the text is read too.
 */
function socketErrorCode(err: unknown, message: string): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return code;
  return [...NETWORK_CODES].find((c) => new RegExp(`\\b${c}\\b`).test(message));
}

/** A 403 that means the credentials lack a permission (rather than a clock or archive problem). */
export function isAccessDenied(failure: S3Failure): boolean {
  return failure.status === 403 && !FORBIDDEN_NOT_DENIED.has(failure.code);
}
