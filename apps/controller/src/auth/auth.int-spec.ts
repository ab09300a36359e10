/**
 * People and the HTTP edge, against the built controller on a fresh PostgreSQL database:
 * login, tokens, throttling, error bodies, health checks.
 */
import type { ApiErrorBody, LoginResponse, UserView } from '@coffer/contracts';
import { createTestDatabaseOrSkip, RunningController, startController, TestDatabase } from '../test-support/controller-process';

let database: TestDatabase | undefined;
let controller: RunningController;

beforeAll(async () => {
  database = await createTestDatabaseOrSkip();
  if (database) controller = await startController({ databaseUrl: database.url });
});

afterAll(async () => {
  await controller?.stop();
  await database?.drop();
});

/** Runs the test only when there is a database (see createTestDatabaseOrSkip). */
const withDatabase = (name: string, test: () => Promise<void>) => it(name, async () => (database ? test() : undefined));

describe('health checks (no token)', () => {
  withDatabase('/healthz says ok and /readyz ready', async () => {
    expect(await controller.api('GET', '/healthz')).toMatchObject({ status: 200, body: { status: 'ok' } });
    expect(await controller.api('GET', '/readyz')).toMatchObject({ status: 200, body: { status: 'ready' } });
  });
});

describe('login', () => {
  withDatabase('issues a cft_ token for the right password, valid for 30 days', async () => {
    const { status, body } = await controller.api<LoginResponse>('POST', '/api/v1/auth/login', { username: 'admin', password: controller.adminPassword });
    expect(status).toBe(200);
    expect(body.token).toMatch(/^cft_[A-Za-z0-9_-]{43}$/);
    expect(body.user).toEqual({ name: 'admin', role: 'admin' });
    const days = (Date.parse(body.expiresAt) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(29.9);
    expect(days).toBeLessThanOrEqual(30);

    const me = await controller.api<UserView>('GET', '/api/v1/auth/me', undefined, body.token);
    expect(me).toMatchObject({ status: 200, body: { name: 'admin', role: 'admin' } });
  });

  withDatabase('refuses a wrong password with 401 invalid_credentials', async () => {
    const { status, body } = await controller.api<ApiErrorBody>('POST', '/api/v1/auth/login', { username: 'admin', password: 'not the password' });
    expect(status).toBe(401);
    expect(body).toEqual({ error: { code: 'invalid_credentials', message: 'wrong user name or password' } });
  });

  withDatabase('refuses a body without the fields with 400 invalid_request naming them', async () => {
    const { status, body } = await controller.api<ApiErrorBody>('POST', '/api/v1/auth/login', { username: 'admin' });
    expect(status).toBe(400);
    expect(body.error.code).toBe('invalid_request');
    expect(body.error.details).toEqual([{ path: 'password', reason: 'is required' }]);
  });
});

describe('every API route needs a token', () => {
  for (const [method, path] of [
    ['GET', '/api/v1/auth/me'],
    ['GET', '/api/v1/repositories'],
    ['POST', '/api/v1/repositories'],
    ['DELETE', '/api/v1/repositories/main'],
    ['POST', '/api/v1/repositories/main/sync'],
    ['GET', '/api/v1/policies'],
    ['PUT', '/api/v1/policies/web'],
    ['GET', '/api/v1/snapshots'],
  ]) {
    withDatabase(`${method} ${path} without a token is 401 unauthorized, saying how to log in`, async () => {
      const { status, body, headers } = await controller.api<ApiErrorBody>(method, path, method === 'GET' || method === 'DELETE' ? undefined : {});
      expect(status).toBe(401);
      expect(body.error.code).toBe('unauthorized');
      expect(body.error.message).toContain('POST /api/v1/auth/login');
      expect(headers.get('www-authenticate')).toBe('Bearer');
    });
  }

  withDatabase('an unknown or malformed token is 401 too', async () => {
    for (const token of ['cft_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', 'garbage']) {
      const { status, body } = await controller.api<ApiErrorBody>('GET', '/api/v1/repositories', undefined, token);
      expect(status).toBe(401);
      expect(body.error).toMatchObject({ code: 'unauthorized', message: expect.stringContaining('log in again') });
    }
  });
});

describe('error bodies', () => {
  withDatabase('malformed JSON is 400 malformed_json, not 500', async () => {
    const token = await controller.login();
    for (const path of ['/api/v1/auth/login', '/api/v1/repositories']) {
      const { status, body } = await controller.api<ApiErrorBody>('POST', path, '{"username": "admin",', token);
      expect(status).toBe(400);
      expect(body.error.code).toBe('malformed_json');
      expect(body.error.message).toMatch(/^the request body is not valid JSON/);
    }
  });

  withDatabase('an unknown route is a JSON 404', async () => {
    const token = await controller.login();
    for (const path of ['/api/v1/no-such-thing', '/nowhere']) {
      const { status, body, headers } = await controller.api<ApiErrorBody>('GET', path, undefined, token);
      expect(status).toBe(404);
      expect(headers.get('content-type')).toContain('application/json');
      expect(body.error.code).toBe('not_found');
    }
  });

  withDatabase('a body over the limit is 413 payload_too_large', async () => {
    const token = await controller.login();
    const { status, body } = await controller.api<ApiErrorBody>('PUT', '/api/v1/policies/big', { description: 'x'.repeat(2 * 1024 * 1024) }, token);
    expect(status).toBe(413);
    expect(body.error.code).toBe('payload_too_large');
  });

  withDatabase('serves the OpenAPI document without a token', async () => {
    const { status, body } = await controller.api<{ paths: Record<string, unknown>; components: { schemas: Record<string, unknown>; securitySchemes: unknown } }>('GET', '/api/docs-json');
    expect(status).toBe(200);
    expect(Object.keys(body.paths)).toEqual(
      expect.arrayContaining(['/api/v1/auth/login', '/api/v1/repositories', '/api/v1/repositories/{name}/sync', '/api/v1/policies/{name}', '/api/v1/snapshots', '/healthz', '/readyz']),
    );
    expect(body.components.schemas).toHaveProperty('PolicyDocumentInput');
    expect(body.components.securitySchemes).toBeDefined();
    expect((await controller.api('GET', '/api/docs')).status).toBe(200);
  });
});

// Last: the lock-out it causes covers this client's address too.
describe('login throttling', () => {
  withDatabase('the 6th rapid failure is 429 too_many_attempts with Retry-After, and so is the right password then', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await controller.api('POST', '/api/v1/auth/login', { username: 'admin', password: `wrong-${i}` })).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401]);

    const sixth = await controller.api<ApiErrorBody>('POST', '/api/v1/auth/login', { username: 'admin', password: 'wrong-5' });
    expect(sixth.status).toBe(429);
    expect(sixth.body.error.code).toBe('too_many_attempts');
    const retryAfter = Number(sixth.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(30);

    const right = await controller.api<ApiErrorBody>('POST', '/api/v1/auth/login', { username: 'admin', password: controller.adminPassword });
    expect(right.status).toBe(429);
  });

  withDatabase('never logs the admin password', async () => {
    expect(controller.output()).not.toContain(controller.adminPassword);
  });
});
