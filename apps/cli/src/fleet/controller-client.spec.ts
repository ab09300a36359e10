import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { CliError } from '../shared/cli-error';
import { ApiError, ControllerClient, ControllerUnreachableError, NotLoggedInError } from './controller-client';

/** What the fake controller saw of one request. */
interface Seen {
  method: string;
  url: string;
  authorization?: string;
  contentType?: string;
  body: string;
}

type Reply = (req: IncomingMessage, res: ServerResponse) => void;

/** A real HTTP server on 127.0.0.1, port 0, answering by "METHOD /path" with canned replies. */
async function startServer(routes: Record<string, Reply>): Promise<{ url: string; seen: Seen[]; server: Server }> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, authorization: req.headers.authorization, contentType: req.headers['content-type'], body });
      const route = routes[`${req.method} ${req.url!.split('?')[0]}`];
      if (route) route(req, res);
      else json(404, { error: { code: 'not_found', message: `no route ${req.method} ${req.url}` } })(req, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, server };
}

function json(status: number, body: unknown): Reply {
  return (_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the request to fail');
}

describe('ControllerClient against a real HTTP server', () => {
  let server: Server;
  let url: string;
  let seen: Seen[];
  let client: ControllerClient;

  beforeAll(async () => {
    ({ server, url, seen } = await startServer({
      'GET /api/v1/agents': json(200, [{ name: 'db1' }]),
      'GET /api/v1/agents/ghost': json(404, { error: { code: 'not_found', message: 'agent "ghost" not found' } }),
      'PUT /api/v1/policies/web': json(422, {
        error: {
          code: 'invalid_policy',
          message: 'policy "web" is invalid',
          details: [
            { path: 'schedules.0.cron', reason: 'must be a cron expression of 5 fields' },
            { path: 'repository', reason: 'repository "nope" is not registered' },
          ],
        },
      }),
      'DELETE /api/v1/repositories/main': json(409, { error: { code: 'in_use', message: 'repository "main" is used by policy "web"', details: { policies: ['web'] } } }),
      'DELETE /api/v1/policies/web': (_req, res) => res.writeHead(204).end(),
      'GET /api/v1/jobs': json(401, { error: { code: 'unauthorized', message: 'missing or invalid token' } }),
      'POST /api/v1/auth/login': json(401, { error: { code: 'invalid_credentials', message: 'wrong user name or password' } }),
      'GET /api/v1/policies': (_req, res) => res.writeHead(502, 'Bad Gateway', { 'content-type': 'text/html' }).end('<html>bad gateway</html>'),
      'GET /api/v1/tokens': (_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>not an API</html>'),
      'GET /api/v1/snapshots': () => undefined, // never answers
    }));
    client = new ControllerClient({ controller: url, token: 'secret-token', user: 'alice' }, 500);
  });
  afterAll(() => closeServer(server));
  beforeEach(() => seen.splice(0));

  it('sends the bearer token and returns the parsed answer', async () => {
    expect(await client.listAgents()).toEqual([{ name: 'db1' }]);
    expect(seen).toEqual([expect.objectContaining({ method: 'GET', url: '/api/v1/agents', authorization: 'Bearer secret-token' })]);
  });

  it('sends bodies as JSON and query filters as parameters', async () => {
    await rejection(client.applyPolicy('web', { name: 'web', schedules: [{ cron: 'x' }] }));
    expect(seen[0]).toMatchObject({ method: 'PUT', contentType: 'application/json', body: '{"name":"web","schedules":[{"cron":"x"}]}' });
    await rejection(client.listJobs({ status: 'failed', agent: 'db 1', limit: 5 }));
    expect(seen[1].url).toBe('/api/v1/jobs?status=failed&agent=db+1&limit=5');
  });

  it('turns an error body into an ApiError with the server message and code', async () => {
    const err = await rejection(client.getAgent('ghost'));
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toBeInstanceOf(CliError); // printed as one line, never with a stack
    expect(err).toMatchObject({ status: 404, code: 'not_found', message: 'agent "ghost" not found' });
  });

  it('keeps the field problems of a 422 for printing one per line', async () => {
    const err = (await rejection(client.applyPolicy('web', {}))) as ApiError;
    expect(err.message).toBe('policy "web" is invalid');
    expect(err.code).toBe('invalid_policy');
    expect(err.problems).toEqual([
      { path: 'schedules.0.cron', reason: 'must be a cron expression of 5 fields' },
      { path: 'repository', reason: 'repository "nope" is not registered' },
    ]);
  });

  it('keeps details that are not field problems, without inventing problems', async () => {
    const err = (await rejection(client.deleteRepository('main'))) as ApiError;
    expect(err).toMatchObject({ status: 409, code: 'in_use', message: 'repository "main" is used by policy "web"', details: { policies: ['web'] } });
    expect(err.problems).toEqual([]);
  });

  it('resolves a 204 with nothing', async () => {
    await expect(client.deletePolicy('web')).resolves.toBeUndefined();
  });

  it('turns a 401 into advice to log in again, naming the controller and the user', async () => {
    const err = await rejection(client.listJobs());
    expect(err).toBeInstanceOf(NotLoggedInError);
    expect(err.message).toBe(`not logged in, or the session expired: run coffer login --controller ${url} --user alice`);
  });

  it('passes on the server message for a 401 of the login itself, sent without a token', async () => {
    const err = await rejection(client.login({ username: 'alice', password: 'wrong' }));
    expect(err).toMatchObject({ status: 401, code: 'invalid_credentials', message: 'wrong user name or password' });
    expect(seen[0].authorization).toBeUndefined();
    expect(JSON.parse(seen[0].body)).toEqual({ username: 'alice', password: 'wrong' });
  });

  it('asks without a token when there is none, and explains the 401', async () => {
    const anonymous = new ControllerClient({ controller: url });
    const err = await rejection(anonymous.listJobs());
    expect(err).toBeInstanceOf(NotLoggedInError);
    expect(err.message).toBe(`not logged in to ${url}: run coffer login --controller ${url} --user NAME`);
    expect(seen).toEqual([expect.objectContaining({ url: '/api/v1/jobs', authorization: undefined })]);
  });

  it('describes an answer that is not the API error body (a proxy in the way)', async () => {
    const err = await rejection(client.listPolicies());
    expect(err).toMatchObject({ status: 502, code: 'http_502', message: `the controller at ${url} answered GET /policies with 502 Bad Gateway` });
  });

  it('refuses a successful answer that is not JSON', async () => {
    const err = await rejection(client.listJoinTokens());
    expect(err).toBeInstanceOf(CliError);
    expect(err.message).toBe(`the controller at ${url} answered GET /tokens with something that is not JSON: is ${url} really a Coffer controller?`);
  });

  it('gives up on a request that gets no answer in time', async () => {
    const started = Date.now();
    const err = await rejection(client.listSnapshots());
    expect(err).toBeInstanceOf(ControllerUnreachableError);
    expect(err.message).toBe(`cannot reach the controller at ${url}: no answer within 0.5s (is it overloaded, or is something in the way?)`);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});

describe('ControllerClient with nothing listening', () => {
  it('says the connection was refused, and what to do', async () => {
    // A port that was just free: bound, then closed.
    const { server, url } = await startServer({});
    await closeServer(server);
    const err = await rejection(new ControllerClient({ controller: url, token: 't' }).listAgents());
    expect(err).toBeInstanceOf(ControllerUnreachableError);
    expect(err.message).toBe(`cannot reach the controller at ${url}: connection refused (is it running? pass --controller or run coffer login)`);
  });

  it('says when the host name does not resolve', async () => {
    const err = await rejection(new ControllerClient({ controller: 'http://no-such-host.invalid:8080', token: 't' }, 5000).listAgents());
    expect(err).toBeInstanceOf(ControllerUnreachableError);
    expect(err.message).toMatch(/^cannot reach the controller at http:\/\/no-such-host\.invalid:8080: (host no-such-host\.invalid not found|timed out|no answer)/);
  });
});
