import type {
  AgentView,
  ApiErrorBody,
  ApplyPolicyResult,
  CatalogSnapshotView,
  CatalogSyncResult,
  CreatedJoinToken,
  CreateJoinTokenRequest,
  CreateRepositoryRequest,
  FieldProblem,
  JobDetailView,
  JobStatus,
  JobView,
  SecretView,
  SetSecretRequest,
  VerifyRequest,
  JoinTokenView,
  LoginRequest,
  LoginResponse,
  PolicyView,
  RepositoryView,
  RestoreRequest,
  RunPolicyRequest,
  UserView,
} from '@coffer/contracts';
import { CliError } from '../shared/cli-error';

/** How long one request may take, connecting included, before the CLI gives up on it. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/** The controller answered with an error: its `code` is for scripts, the message for people. */
export class ApiError extends CliError {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** The field problems of a 422 (`details: FieldProblem[]`); empty for any other error. */
  get problems(): FieldProblem[] {
    if (!Array.isArray(this.details)) return [];
    return this.details.filter(
      (d): d is FieldProblem => typeof d === 'object' && d !== null && typeof d.path === 'string' && typeof d.reason === 'string',
    );
  }
}

/** No session for this controller, or the controller refused the one given (401). */
export class NotLoggedInError extends CliError {
  constructor(message: string) {
    super(message);
    this.name = 'NotLoggedInError';
  }
}

/** The request never got an answer: refused, unknown host, timeout, TLS failure. */
export class ControllerUnreachableError extends CliError {
  constructor(
    readonly controller: string,
    readonly reason: string,
    hint = '(is it running? pass --controller or run coffer login)',
  ) {
    super(`cannot reach the controller at ${controller}: ${reason}${hint ? ` ${hint}` : ''}`);
    this.name = 'ControllerUnreachableError';
  }
}

/** Where to send requests and as whom. */
export interface ControllerConnection {
  /** Normalized base URL, without a trailing slash: "http://controller:8080". */
  controller: string;
  /** Bearer token; without one, requests go without, and a 401 says "not logged in". */
  token?: string;
  /** Who the token belongs to, when known: used in the advice to log in again. */
  user?: string;
}

/** The advice every "who are you?" failure ends with. */
export function loginAdvice(controller: string, user?: string): string {
  return `run coffer login --controller ${controller} --user ${user ?? 'NAME'}`;
}

interface RequestOptions {
  body?: unknown;
  query?: Record<string, string | number | undefined>;
  /** A request made without a token (login): a 401 is then the server's own answer. */
  anonymous?: boolean;
}

/** Filters of GET /jobs. */
export interface JobFilter {
  status?: JobStatus;
  agent?: string;
  policy?: string;
  limit?: number;
}

/** Filters of GET /snapshots. */
export interface SnapshotFilter {
  agent?: string;
  policy?: string;
  repository?: string;
}

/**
 * The controller's REST API (/api/v1, see @coffer/contracts api.ts) over Node's fetch.
 * Every failure comes out as a CliError written for people: ApiError for an answer with an
 * error body, NotLoggedInError for 401, ControllerUnreachableError when no answer came.
 */
export class ControllerClient {
  constructor(
    readonly connection: ControllerConnection,
    private readonly timeoutMs = DEFAULT_REQUEST_TIMEOUT_MS,
  ) {}

  get controller(): string {
    return this.connection.controller;
  }

  login(request: LoginRequest): Promise<LoginResponse> {
    return this.request('POST', '/auth/login', { body: request, anonymous: true });
  }

  me(): Promise<UserView> {
    return this.request('GET', '/auth/me');
  }

  createJoinToken(request: CreateJoinTokenRequest): Promise<CreatedJoinToken> {
    return this.request('POST', '/tokens', { body: request });
  }

  listJoinTokens(): Promise<JoinTokenView[]> {
    return this.request('GET', '/tokens');
  }

  listAgents(): Promise<AgentView[]> {
    return this.request('GET', '/agents');
  }

  getAgent(name: string): Promise<AgentView> {
    return this.request('GET', `/agents/${segment(name)}`);
  }

  revokeAgent(name: string): Promise<AgentView> {
    return this.request('POST', `/agents/${segment(name)}/revoke`);
  }

  createRepository(request: CreateRepositoryRequest): Promise<RepositoryView> {
    return this.request('POST', '/repositories', { body: request });
  }

  listRepositories(): Promise<RepositoryView[]> {
    return this.request('GET', '/repositories');
  }

  async deleteRepository(name: string): Promise<void> {
    await this.request('DELETE', `/repositories/${segment(name)}`);
  }

  syncCatalog(repository: string): Promise<CatalogSyncResult> {
    return this.request('POST', `/repositories/${segment(repository)}/sync`);
  }

  /** PUT of a document as written (defaults are the controller's to apply). */
  applyPolicy(name: string, document: unknown): Promise<ApplyPolicyResult> {
    return this.request('PUT', `/policies/${segment(name)}`, { body: document });
  }

  listPolicies(): Promise<PolicyView[]> {
    return this.request('GET', '/policies');
  }

  getPolicy(name: string): Promise<PolicyView> {
    return this.request('GET', `/policies/${segment(name)}`);
  }

  async deletePolicy(name: string): Promise<void> {
    await this.request('DELETE', `/policies/${segment(name)}`);
  }

  runPolicy(name: string, request: RunPolicyRequest): Promise<JobView[]> {
    return this.request('POST', `/policies/${segment(name)}/run`, { body: request });
  }

  listJobs(filter: JobFilter = {}): Promise<JobView[]> {
    return this.request('GET', '/jobs', { query: { ...filter } });
  }

  getJob(id: string): Promise<JobDetailView> {
    return this.request('GET', `/jobs/${segment(id)}`);
  }

  cancelJob(id: string): Promise<JobView> {
    return this.request('POST', `/jobs/${segment(id)}/cancel`);
  }

  startRestore(request: RestoreRequest): Promise<JobView> {
    return this.request('POST', '/restores', { body: request });
  }

  startVerify(request: VerifyRequest): Promise<JobView> {
    return this.request('POST', '/verifications', { body: request });
  }

  setSecret(name: string, request: SetSecretRequest): Promise<SecretView> {
    return this.request('PUT', `/secrets/${segment(name)}`, { body: request });
  }

  listSecrets(): Promise<SecretView[]> {
    return this.request('GET', '/secrets');
  }

  async deleteSecret(name: string): Promise<void> {
    await this.request('DELETE', `/secrets/${segment(name)}`);
  }

  listSnapshots(filter: SnapshotFilter = {}): Promise<CatalogSnapshotView[]> {
    return this.request('GET', '/snapshots', { query: { ...filter } });
  }

  /**
   * One request. Resolves with the parsed JSON body (undefined for 204 or an empty body);
   * the timeout covers connecting, sending and reading the whole answer.
   */
  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const { controller, token } = this.connection;
    const headers: Record<string, string> = { accept: 'application/json' };
    // Without a token the request is still sent: "cannot reach" is the more useful answer
    // when both apply, and the controller's 401 then says "not logged in".
    if (!options.anonymous && token) headers.authorization = `Bearer ${token}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';

    let response: Response;
    let text: string;
    try {
      response = await fetch(`${controller}/api/v1${path}${queryString(options.query)}`, {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      text = await response.text();
    } catch (err) {
      throw unreachable(controller, err, this.timeoutMs);
    }

    if (response.ok) {
      if (text.trim() === '') return undefined as T;
      try {
        return JSON.parse(text) as T;
      } catch {
        throw new CliError(`the controller at ${controller} answered ${method} ${path} with something that is not JSON: is ${controller} really a Coffer controller?`);
      }
    }
    throw this.failure(response, text, options, `${method} ${path}`);
  }

  private failure(response: Response, text: string, options: RequestOptions, what: string): CliError {
    const { controller, token, user } = this.connection;
    if (response.status === 401 && !options.anonymous) {
      if (!token) return new NotLoggedInError(`not logged in to ${controller}: ${loginAdvice(controller, user)}`);
      return new NotLoggedInError(`not logged in, or the session expired: ${loginAdvice(controller, user)}`);
    }
    const body = errorBody(text);
    if (body) return new ApiError(response.status, body.code, body.message || `the controller refused ${what} (${response.status} ${body.code})`, body.details);
    // Not the controller's own error body: a proxy in the way, or not a controller at all.
    const status = `${response.status}${response.statusText ? ` ${response.statusText}` : ''}`;
    return new ApiError(response.status, `http_${response.status}`, `the controller at ${controller} answered ${what} with ${status}`);
  }
}

function segment(value: string): string {
  return encodeURIComponent(value);
}

function queryString(query: RequestOptions['query']): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined && value !== '') params.set(key, String(value));
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}

function errorBody(text: string): ApiErrorBody['error'] | undefined {
  try {
    const parsed = JSON.parse(text) as Partial<ApiErrorBody> | null;
    const error = parsed?.error;
    if (typeof error === 'object' && error !== null && typeof error.code === 'string') {
      return { code: error.code, message: typeof error.message === 'string' ? error.message : '', details: error.details };
    }
  } catch {
    // not JSON: handled by the caller
  }
  return undefined;
}

/** Why a request got no answer, in words, from what fetch (undici) and the OS report. */
function unreachable(controller: string, err: unknown, timeoutMs: number): ControllerUnreachableError {
  // Duck-typed, not `instanceof Error`: fetch's errors may come from another realm (a vm, jest).
  type Failure = { name?: string; message?: string; code?: string; hostname?: string; cause?: Failure; errors?: Failure[] };
  const failure = (typeof err === 'object' && err !== null ? err : { message: String(err) }) as Failure;
  if (failure.name === 'TimeoutError' || failure.name === 'AbortError') {
    return new ControllerUnreachableError(controller, `no answer within ${timeoutMs / 1000}s`, '(is it overloaded, or is something in the way?)');
  }
  const cause = failure.cause;
  const code = cause?.code ?? cause?.errors?.[0]?.code;
  switch (code) {
    case 'ECONNREFUSED':
      return new ControllerUnreachableError(controller, 'connection refused');
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new ControllerUnreachableError(controller, `host ${cause?.hostname ?? new URL(controller).hostname} not found`, '(check the URL: pass --controller or run coffer login)');
    case 'ECONNRESET':
    case 'UND_ERR_SOCKET':
      return new ControllerUnreachableError(controller, 'the connection was closed before an answer came');
    case 'ETIMEDOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
      return new ControllerUnreachableError(controller, 'timed out connecting');
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return new ControllerUnreachableError(controller, 'no route to the host', '(check the URL and the network)');
  }
  const detail = cause?.message ?? failure.message ?? String(err);
  if (detail === 'bad port') {
    // fetch refuses a fixed list of ports (1, 25, 6000…) whatever listens there.
    return new ControllerUnreachableError(controller, `fetch refuses to connect to port ${new URL(controller).port}`, '(run the controller on another port)');
  }
  if (typeof code === 'string' && /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY/.test(code)) {
    return new ControllerUnreachableError(controller, `TLS failed: ${detail}`, '(is the URL right, and its certificate trusted? NODE_EXTRA_CA_CERTS can name a CA file)');
  }
  return new ControllerUnreachableError(controller, detail);
}
