import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger, NotFoundException } from '@nestjs/common';
import type { ApiErrorBody } from '@coffer/contracts';
import type { HttpRequest as Request, HttpResponse as Response } from './http-types';
import { ApiException } from '../shared/api-exception';

/** Stable codes for errors raised as plain HttpExceptions (by Nest, Express or other code). */
const CODES_BY_STATUS: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  406: 'not_acceptable',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  422: 'unprocessable',
  429: 'too_many_requests',
  503: 'unavailable',
};

/**
 * Every failed HTTP request answers `{ "error": { code, message, details } }`:
 * ApiException as raised, other HTTP errors (unknown route, Express body errors) with a
 * code from their status, and anything else as a generic 500 whose stack is logged here
 * and never sent.
 */
@Catch()
export class HttpExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpErrors');

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw exception;
    const http = host.switchToHttp();
    const request = http.getRequest<Request>();
    const response = http.getResponse<Response>();
    const { status, body, headers } = this.render(exception, request);
    if (response.headersSent) {
      response.end();
      return;
    }
    for (const [name, value] of Object.entries(headers)) response.setHeader(name, value);
    response.status(status).json(body);
  }

  private render(exception: unknown, request: Request): { status: number; body: ApiErrorBody; headers: Record<string, string> } {
    if (exception instanceof ApiException) {
      const error: ApiErrorBody['error'] = { code: exception.code, message: exception.message };
      if (exception.details !== undefined) error.details = exception.details;
      return { status: exception.getStatus(), body: { error }, headers: exception.responseHeaders };
    }
    if (exception instanceof NotFoundException && /^Cannot [A-Z]+ /.test(exception.message)) {
      // Nest's answer for a path no controller serves.
      const message = `no route ${request.method} ${request.path}: the API is under /api/v1 (see /api/docs)`;
      return { status: 404, body: { error: { code: 'not_found', message } }, headers: {} };
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      if (status >= 500) this.logger.error(`${request.method} ${request.path}: ${exception.message}`, exception.stack);
      return { status, body: { error: { code: codeFor(status), message: exception.message } }, headers: {} };
    }
    const clientError = asExpressClientError(exception);
    if (clientError) return { status: clientError.status, body: { error: { code: codeFor(clientError.status), message: clientError.message } }, headers: {} };
    this.logger.error(`${request.method} ${request.path} failed: ${(exception as Error)?.message ?? String(exception)}`, (exception as Error)?.stack);
    return { status: HttpStatus.INTERNAL_SERVER_ERROR, body: { error: { code: 'internal', message: 'internal error' } }, headers: {} };
  }
}

function codeFor(status: number): string {
  return CODES_BY_STATUS[status] ?? (status >= 500 ? 'internal' : `http_${status}`);
}

/** Errors from Express middleware (http-errors) that are meant for the client: `expose` and a 4xx status. */
function asExpressClientError(exception: unknown): { status: number; message: string } | undefined {
  const candidate = exception as { status?: unknown; expose?: unknown; message?: unknown } | null;
  if (!candidate || candidate.expose !== true || typeof candidate.status !== 'number') return undefined;
  if (candidate.status < 400 || candidate.status >= 500) return undefined;
  return { status: candidate.status, message: String(candidate.message) };
}
