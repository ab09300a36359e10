import { toFieldProblems } from '@coffer/contracts';
import type { z } from 'zod';
import { ApiException } from '../shared/api-exception';
import type { ErrorMiddleware } from './http-types';

/** Largest JSON body accepted. */
export const JSON_BODY_LIMIT = '1mb';

/**
 * Validates a request body against `schema`; a mismatch is 400 invalid_request with every
 * problem (field path and reason) in `details`.
 */
export function parseRequestBody<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  return parseRequestPart(schema, body, 'body');
}

/** Validates query parameters the same way. */
export function parseRequestQuery<S extends z.ZodType>(schema: S, query: unknown): z.output<S> {
  return parseRequestPart(schema, query, 'query');
}

function parseRequestPart<S extends z.ZodType>(schema: S, value: unknown, part: 'body' | 'query'): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const problems = toFieldProblems(result.error);
  throw new ApiException(400, 'invalid_request', `the request ${part} is invalid: ${problems.map((p) => `${p.path} ${p.reason}`).join('; ')}`, problems);
}

/**
 * Turns the JSON body parser's errors into API errors (registered right after the parser):
 * malformed JSON is 400 malformed_json, an oversized body 413 payload_too_large.
 */
export const translateBodyParserErrors: ErrorMiddleware = (err, _req, _res, next) => {
  const type = (err as { type?: unknown } | null)?.type;
  if (type === 'entity.parse.failed') {
    next(new ApiException(400, 'malformed_json', `the request body is not valid JSON: ${(err as Error).message}`));
  } else if (type === 'entity.too.large') {
    next(new ApiException(413, 'payload_too_large', `the request body is larger than the ${JSON_BODY_LIMIT} allowed`));
  } else if (type === 'encoding.unsupported' || type === 'charset.unsupported') {
    next(new ApiException(415, 'unsupported_media_type', (err as Error).message));
  } else {
    next(err);
  }
};
