/*
 * The controller's REST API (/api/v1) as the CLI and the dashboard see it: request and
 * response bodies. Dates are ISO-8601 strings. Every route but /healthz and /readyz needs
 * `Authorization: Bearer <token>` from POST /api/v1/auth/login.
 *
 * Errors are always `ApiErrorBody` with a 4xx/5xx status; `code` is a stable word for
 * scripts, `message` is for people, `details` carries e.g. field problems.
 *
 * Routes:
 *   POST   /api/v1/auth/login                 LoginRequest → LoginResponse   (401 invalid_credentials, 429 too_many_attempts)
 *   GET    /api/v1/auth/me                    → UserView
 *   POST   /api/v1/tokens                     CreateJoinTokenRequest → CreatedJoinToken
 *   GET    /api/v1/tokens                     → JoinTokenView[]
 *   GET    /api/v1/agents                     → AgentView[]
 *   GET    /api/v1/agents/:name               → AgentView
 *   POST   /api/v1/agents/:name/revoke        → AgentView
 *   POST   /api/v1/repositories               CreateRepositoryRequest → RepositoryView   (409 already_exists)
 *   GET    /api/v1/repositories               → RepositoryView[]
 *   DELETE /api/v1/repositories/:name         → 204 (409 in_use when a policy uses it)
 *   POST   /api/v1/repositories/:name/sync    → CatalogSyncResult
 *   PUT    /api/v1/policies/:name             policy document → ApplyPolicyResult (422 invalid_policy, details: FieldProblem[])
 *   GET    /api/v1/policies                   → PolicyView[]
 *   GET    /api/v1/policies/:name             → PolicyView
 *   DELETE /api/v1/policies/:name             → 204
 *   POST   /api/v1/policies/:name/run         RunPolicyRequest → JobView[]
 *   GET    /api/v1/jobs?status=&agent=&policy=&limit=   → JobView[] (newest first)
 *   GET    /api/v1/jobs/:id                   → JobDetailView
 *   POST   /api/v1/jobs/:id/cancel            → JobView   (409 when already finished)
 *   POST   /api/v1/restores                   RestoreRequest → JobView   (into a directory, or a database: `database`)
 *   POST   /api/v1/verifications              VerifyRequest → JobView    (422 not_a_database_snapshot)
 *   PUT    /api/v1/secrets/:name              SetSecretRequest → SecretView  (value never returned)
 *   GET    /api/v1/secrets                    → SecretView[]
 *   DELETE /api/v1/secrets/:name              → 204
 *   GET    /api/v1/snapshots?agent=&policy=&repository=  → CatalogSnapshotView[] (newest first)
 *   GET    /healthz  /readyz                  no auth
 */

import type { FieldProblem, PolicyDocument, PolicyHook } from './policy';

/** The error body of every failed request. */
export interface ApiErrorBody {
  error: { code: string; message: string; details?: unknown };
}

export interface LoginRequest {
  username: string;
  password: string;
}

export interface UserView {
  name: string;
  /** "admin" for now; roles come later. */
  role: string;
}

export interface LoginResponse {
  /** Bearer token for later requests; shown once, stored hashed. */
  token: string;
  expiresAt: string;
  user: UserView;
}

export interface CreateJoinTokenRequest {
  labels?: Record<string, string>;
  /** Duration, default "1h". */
  ttl?: string;
  /** How many enrollments it allows, default 1. */
  uses?: number;
}

export interface JoinTokenView {
  id: string;
  labels: Record<string, string>;
  expiresAt: string;
  usesAllowed: number;
  usesLeft: number;
  createdAt: string;
}

export interface CreatedJoinToken extends JoinTokenView {
  /** The secret to pass to `coffer-agent enroll --token`; shown once. */
  token: string;
}

export type AgentStatus = 'online' | 'offline' | 'revoked';

/** An agent's last reported health (mirrors the protocol's Health message). */
export interface AgentHealthView {
  hostname: string;
  os: string;
  arch: string;
  agentVersion: string;
  hostUptimeSeconds: number;
  agentUptimeSeconds: number;
  loadAverage: number[];
  memoryTotalBytes: number;
  memoryAvailableBytes: number;
  agentRssBytes: number;
  disks: { path: string; role: string; freeBytes: number; totalBytes: number }[];
  tools: { name: string; version: string; path: string }[];
}

export interface AgentView {
  id: string;
  name: string;
  labels: Record<string, string>;
  status: AgentStatus;
  /** Last heartbeat or message; null before the first connection. */
  lastSeenAt: string | null;
  version: string | null;
  hostname: string | null;
  health: AgentHealthView | null;
  enrolledAt: string;
  revokedAt: string | null;
  runningJobs: number;
}

export interface CreateRepositoryRequest {
  name: string;
  /** Repository location: a path, file:///…, s3:…, azure:…, sftp:… */
  url: string;
  password: string;
  /** Storage credentials handed to agents as environment variables. */
  environment?: Record<string, string>;
  /** Create the repository in storage if it does not exist yet (default false). */
  initialize?: boolean;
}

/** A registered repository; secrets never leave the controller through the API. */
export interface RepositoryView {
  id: string;
  name: string;
  url: string;
  /** Names of the storage credential variables held (values are never shown). */
  environmentKeys: string[];
  createdAt: string;
}

export interface CatalogSyncResult {
  repository: string;
  /** Snapshots found in storage. */
  total: number;
  /** Catalog entries created. */
  added: number;
  /** Catalog entries marked gone because the snapshot no longer exists in storage. */
  removed: number;
}

export interface PolicyView {
  id: string;
  name: string;
  document: PolicyDocument;
  createdAt: string;
  updatedAt: string;
  /** Next scheduled backup, if any schedule is set and the policy is enabled. */
  nextRunAt: string | null;
}

export interface PolicyChange {
  /** Dotted path into the document, e.g. "schedules.0.cron". */
  path: string;
  from: unknown;
  to: unknown;
}

export interface ApplyPolicyResult {
  result: 'created' | 'updated' | 'unchanged';
  changes: PolicyChange[];
  policy: PolicyView;
}

/** `details` of a 422 invalid_policy error. */
export type InvalidPolicyDetails = FieldProblem[];

export interface RunPolicyRequest {
  /** Only this agent (it must match the policy's selector). */
  agent?: string;
}

export type JobKind = 'backup' | 'restore' | 'forget' | 'prune' | 'check' | 'verify';

export type JobStatus =
  | 'queued'
  | 'dispatched'
  | 'running'
  | 'succeeded'
  | 'failed'
  | 'cancelled'
  | 'timed_out'
  /** A scheduled run the controller was down for and that was outside its window. */
  | 'missed';

export const TERMINAL_JOB_STATUSES: readonly JobStatus[] = ['succeeded', 'failed', 'cancelled', 'timed_out', 'missed'];

/** How far a running job has got, as its agent reports it (0 = not known). */
export interface JobProgressFigures {
  phase: string;
  filesDone: number;
  filesTotal: number;
  bytesDone: number;
  bytesTotal: number;
  bytesPerSecond: number;
}

export interface JobProgressView extends JobProgressFigures {
  updatedAt: string;
}

export interface JobTransitionView {
  status: JobStatus;
  at: string;
  /** Why, when it is not obvious (e.g. "agent offline", "retry 2 of 3"). */
  reason: string | null;
}

export interface JobView {
  id: string;
  kind: JobKind;
  status: JobStatus;
  policy: string | null;
  agent: string;
  repository: string;
  /** 1 for the first try. */
  attempt: number;
  maxAttempts: number;
  /** "schedule", "manual", "retry", "retention", "restore" */
  trigger: string;
  /** Ran later than scheduled because the controller was down at the time. */
  late: boolean;
  scheduledFor: string;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  error: string | null;
  progress: JobProgressView | null;
  snapshotIds: string[];
}

export interface JobDetailView extends JobView {
  transitions: JobTransitionView[];
  log: string[];
  /**
   * Restore jobs: where, and what was asked. `targetDir` is "" for a database restore, whose
   * target is in `database` (without any password).
   */
  restore: { snapshotId: string; targetDir: string; include: string[]; database?: RestoreDatabaseTarget } | null;
  /** Verify jobs: the snapshot verified. */
  verify: { snapshotId: string } | null;
}

/** A hook as a request gives it (defaults: timeout "10m", onFailure "fail"). */
export type HookInput = Partial<PolicyHook> & { run: string };

/**
 * Where a database snapshot is restored. URLs never carry a password: `passwordSecret`
 * names a secret of the controller's store, sent to the agent with the job only.
 */
export type RestoreDatabaseTarget =
  | {
      postgres: {
        /** postgres://USER@HOST:PORT/TARGETDB (created if missing). */
        url: string;
        clean?: boolean;
        schemas?: string[];
        jobs?: number;
        /** Which database of a snapshot holding several. */
        sourceDatabase?: string;
        globals?: boolean;
        noOwner?: boolean;
        passwordSecret?: string;
      };
    }
  | { mysql: { url: string; clean?: boolean; sourceDatabase?: string; passwordSecret?: string } }
  | { redis: { dir: string; clean?: boolean } };

export interface RestoreRequest {
  /** Snapshot id or unique prefix of one in the catalog. */
  snapshot: string;
  /** The agent to restore on. */
  agent: string;
  /** Absolute directory on that agent's host; exactly one of `target` and `database`. */
  target?: string;
  include?: string[];
  /** A database to restore a database snapshot into. */
  database?: RestoreDatabaseTarget;
  /** Commands run on the agent around the restore. */
  hooks?: { before?: HookInput[]; after?: HookInput[] };
}

export interface VerifyRequest {
  /** Snapshot id or unique prefix of one in the catalog (a database snapshot). */
  snapshot: string;
  /** The agent to verify on; default: the one that took the snapshot, when it is online. */
  agent?: string;
  /** Only look for the snapshot in this repository. */
  repository?: string;
}

export interface SetSecretRequest {
  /** The secret's value (e.g. a database password); stored encrypted, never returned. */
  value: string;
}

/** A stored secret: its name only, never its value. */
export interface SecretView {
  name: string;
  createdAt: string;
  updatedAt: string;
}

export interface CatalogSnapshotView {
  id: string;
  shortId: string;
  repository: string;
  agent: string | null;
  hostname: string;
  policy: string | null;
  sourceKind: string;
  paths: string[];
  tags: string[];
  time: string;
  files: number;
  bytesRead: number;
  bytesNew: number;
  bytesStored: number;
  durationSeconds: number;
  /** "available", or "forgotten" once retention removed it. */
  status: 'available' | 'forgotten';
  jobId: string | null;
}
