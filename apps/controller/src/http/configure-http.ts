import type { NestExpressApplication } from '@nestjs/platform-express';
import { HttpExceptionFilter } from './http-exception.filter';
import { setUpOpenApi } from './openapi';
import { JSON_BODY_LIMIT, translateBodyParserErrors } from './request-body';

/** Prefix of the REST API. */
export const API_PREFIX = 'api/v1';

/**
 * Routes served at the root instead of under /api/v1 (controllers declare paths without
 * the prefix; it is added globally).
 */
export const ROUTES_OUTSIDE_API_PREFIX = ['healthz', 'readyz'];

/** The HTTP edge: JSON bodies, the /api/v1 prefix, error bodies and the OpenAPI document. */
export function configureHttp(app: NestExpressApplication, version: string): void {
  app.disable('x-powered-by');
  app.useBodyParser('json', { limit: JSON_BODY_LIMIT });
  app.use(translateBodyParserErrors);
  app.setGlobalPrefix(API_PREFIX, { exclude: ROUTES_OUTSIDE_API_PREFIX });
  app.useGlobalFilters(new HttpExceptionFilter());
  setUpOpenApi(app, version);
}
