import { Injectable } from '@nestjs/common';
import type { JobStatus } from '@coffer/contracts';
import { FleetDatabase, Sql } from '../shared/database';
import { limitKey } from './dispatch-plan';
import { sourcesOf } from './job-state';
import type { JobDraft, JobProgress, JobRecord, JobResult, JobSpec, JobTransition, JobTrigger } from './job.types';

interface JobRow {
  id: string;
  kind: JobRecord['kind'];
  status: JobStatus;
  trigger: JobTrigger;
  policy_id: string | null;
  policy_name: string | null;
  agent_id: string;
  agent_name: string;
  repository_name: string;
  schedule_key: string | null;
  scheduled_for: Date;
  start_deadline: Date;
  start_deadline_seconds: number;
  late: boolean;
  timeout_seconds: number;
  attempt: number;
  max_attempts: number;
  retry_backoff_seconds: number;
  max_jobs_per_agent: number | null;
  retry_of: string | null;
  spec: JobSpec;
  progress: (Omit<JobProgress, 'updatedAt'> & { updatedAt: string }) | null;
  log: string[] | null;
  error: string | null;
  snapshot_ids: string[] | null;
  result: JobResult | null;
  cancel_requested_at: Date | null;
  created_at: Date;
  dispatched_at: Date | null;
  started_at: Date | null;
  finished_at: Date | null;
}

/** Columns a transition may set besides the status. */
export interface TransitionFields {
  dispatchedAt?: Date;
  /** Only set when not set yet. */
  startedAt?: Date | null;
  finishedAt?: Date;
  error?: string | null;
  log?: string[];
  snapshotIds?: string[];
  result?: JobResult | null;
  progress?: JobProgress | null;
}

/** A guarded status change. */
export interface TransitionRequest {
  jobId: string;
  to: JobStatus;
  at: Date;
  reason?: string | null;
  /** Allowed current states; default: every state the state machine allows `to` from. */
  from?: readonly JobStatus[];
  /** Only if the job belongs to this agent. */
  agentId?: string;
  set?: TransitionFields;
}

/** A job's end, as `finishMany` writes it. */
export interface JobCompletion {
  jobId: string;
  from: JobStatus;
  to: JobStatus;
  startedAt: Date | null;
  finishedAt: Date;
  error: string | null;
  log: string[];
  snapshotIds: string[];
  result: JobResult | null;
  reason: string | null;
}

/** Filters of the job list. */
export interface JobFilter {
  statuses?: JobStatus[];
  agentName?: string;
  policyName?: string;
  limit: number;
}

/** A queued job past its start deadline whose agent is not online. */
export interface OverdueQueuedJob {
  job: JobRecord;
  agentLastSeenAt: Date | null;
  agentRevoked: boolean;
}

const SELECT_JOB = `SELECT j.*, a.name AS agent_name FROM jobs j JOIN agents a ON a.id = j.agent_id`;

/** The jobs and job_transitions tables. Every status change writes its transition row in the same statement. */
@Injectable()
export class JobStore {
  constructor(private readonly db: FleetDatabase) {}

  /**
   * Inserts jobs with their first transition. Scheduled runs that already exist (same
   * policy, schedule, time and agent) are skipped silently. Jobs in `dispatchNow` are
   * stored as queued and dispatched at once (both transitions): the dispatcher's fast path
   * for jobs whose agent is connected here. Returns the ids inserted.
   */
  async insert(sql: Sql, drafts: JobDraft[], now: Date, dispatchNow: ReadonlySet<string> = new Set()): Promise<string[]> {
    if (drafts.length === 0) return [];
    const input = drafts.map((draft) => ({
      id: draft.id,
      kind: draft.kind,
      status: draft.status,
      trigger: draft.trigger,
      policy_id: draft.policyId,
      policy_name: draft.policyName,
      agent_id: draft.agentId,
      repository_name: draft.repositoryName,
      schedule_key: draft.scheduleKey,
      scheduled_for: draft.scheduledFor.toISOString(),
      start_deadline: new Date(draft.scheduledFor.getTime() + draft.startDeadlineSeconds * 1000).toISOString(),
      start_deadline_seconds: draft.startDeadlineSeconds,
      late: draft.late,
      timeout_seconds: draft.timeoutSeconds,
      attempt: draft.attempt,
      max_attempts: draft.maxAttempts,
      retry_backoff_seconds: draft.retryBackoffSeconds,
      max_jobs_per_agent: draft.maxJobsPerAgent,
      retry_of: draft.retryOf,
      spec: draft.spec,
      reason: draft.reason,
      finished_at: draft.status === 'missed' ? now.toISOString() : null,
      error: draft.status === 'missed' ? draft.reason : null,
      dispatched: draft.status === 'queued' && dispatchNow.has(draft.id),
    }));
    const rows = await sql.rows<{ job_id: string }>(
      `WITH input AS (
         SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(
           id uuid, kind text, status text, trigger text, policy_id uuid, policy_name text, agent_id uuid,
           repository_name text, schedule_key text, scheduled_for timestamptz, start_deadline timestamptz,
           start_deadline_seconds int, late boolean, timeout_seconds int, attempt int, max_attempts int,
           retry_backoff_seconds int, max_jobs_per_agent int, retry_of uuid, spec jsonb, reason text,
           finished_at timestamptz, error text, dispatched boolean)
       ), inserted AS (
         INSERT INTO jobs (id, kind, status, trigger, policy_id, policy_name, agent_id, repository_name, schedule_key,
                           scheduled_for, start_deadline, start_deadline_seconds, late, timeout_seconds, attempt,
                           max_attempts, retry_backoff_seconds, max_jobs_per_agent, retry_of, spec, finished_at, error,
                           dispatched_at, created_at)
         SELECT id, kind, CASE WHEN dispatched THEN 'dispatched' ELSE status END, trigger, policy_id, policy_name, agent_id,
                repository_name, schedule_key, scheduled_for, start_deadline, start_deadline_seconds, late, timeout_seconds,
                attempt, max_attempts, retry_backoff_seconds, max_jobs_per_agent, retry_of, spec, finished_at, error,
                CASE WHEN dispatched THEN $2::timestamptz END, $2
           FROM input
         ON CONFLICT (policy_id, schedule_key, scheduled_for, agent_id) WHERE schedule_key IS NOT NULL DO NOTHING
         RETURNING id
       )
       INSERT INTO job_transitions (job_id, status, at, reason)
       SELECT inserted.id, input.status, $2, input.reason FROM inserted JOIN input ON input.id = inserted.id
       UNION ALL
       SELECT inserted.id, 'dispatched', $2, NULL FROM inserted JOIN input ON input.id = inserted.id WHERE input.dispatched
       RETURNING job_id`,
      [JSON.stringify(input), now],
    );
    return [...new Set(rows.map((row) => row.job_id))];
  }

  async findById(id: string, sql: Sql = this.db): Promise<JobRecord | undefined> {
    const rows = await sql.rows<JobRow>(`${SELECT_JOB} WHERE j.id = $1`, [id]);
    return rows[0] && toRecord(rows[0]);
  }

  /** The jobs with these ids, in the given order (unknown ids are left out). */
  async findByIds(ids: string[]): Promise<JobRecord[]> {
    if (ids.length === 0) return [];
    const rows = await this.db.rows<JobRow>(`${SELECT_JOB} WHERE j.id = ANY($1::uuid[])`, [ids]);
    const byId = new Map(rows.map((row) => [row.id, toRecord(row)]));
    return ids.flatMap((id) => byId.get(id) ?? []);
  }

  /**
   * Moves a job to `to` if it is in one of the allowed states, storing the transition.
   * Returns the updated job, or undefined when it was not in an allowed state (someone
   * else moved it first) — callers treat that as "nothing to do".
   */
  async transition(sql: Sql, request: TransitionRequest): Promise<JobRecord | undefined> {
    const params: unknown[] = [request.jobId, request.to, [...(request.from ?? sourcesOf(request.to))], request.at, request.reason ?? null];
    const sets = ['status = $2'];
    const add = (clause: (placeholder: string) => string, value: unknown) => {
      params.push(value);
      sets.push(clause(`$${params.length}`));
    };
    const set = request.set ?? {};
    if (set.dispatchedAt !== undefined) add((p) => `dispatched_at = ${p}`, set.dispatchedAt);
    if (set.startedAt !== undefined) add((p) => `started_at = COALESCE(started_at, ${p})`, set.startedAt);
    if (set.finishedAt !== undefined) add((p) => `finished_at = ${p}`, set.finishedAt);
    if (set.error !== undefined) add((p) => `error = ${p}`, set.error);
    if (set.log !== undefined) add((p) => `log = ${p}::jsonb`, JSON.stringify(set.log));
    if (set.snapshotIds !== undefined) add((p) => `snapshot_ids = ${p}::text[]`, set.snapshotIds);
    if (set.result !== undefined) add((p) => `result = ${p}::jsonb`, set.result === null ? null : JSON.stringify(set.result));
    if (set.progress !== undefined) add((p) => `progress = ${p}::jsonb`, set.progress === null ? null : JSON.stringify(set.progress));
    let guard = 'id = $1 AND status = ANY($3::text[])';
    if (request.agentId) {
      params.push(request.agentId);
      guard += ` AND agent_id = $${params.length}`;
    }
    const rows = await sql.rows<JobRow>(
      `WITH up AS (UPDATE jobs SET ${sets.join(', ')} WHERE ${guard} RETURNING *),
            tr AS (INSERT INTO job_transitions (job_id, status, at, reason) SELECT id, status, $4, $5 FROM up)
       SELECT up.*, a.name AS agent_name FROM up JOIN agents a ON a.id = up.agent_id`,
      params,
    );
    return rows[0] && toRecord(rows[0]);
  }

  /** The jobs, row-locked until the transaction ends (NO KEY UPDATE: rows referencing them stay insertable). */
  async lockMany(sql: Sql, ids: string[]): Promise<JobRecord[]> {
    if (ids.length === 0) return [];
    const rows = await sql.rows<JobRow>(`${SELECT_JOB} WHERE j.id = ANY($1::uuid[]) ORDER BY j.id FOR NO KEY UPDATE OF j`, [ids]);
    return rows.map(toRecord);
  }

  /**
   * dispatched → running for many jobs in one statement, each only for the agent that
   * reports it. Returns the ids that moved.
   */
  async markRunning(sql: Sql, accepted: { jobId: string; agentId: string; startedAt: Date }[], at: Date): Promise<Set<string>> {
    if (accepted.length === 0) return new Set();
    const rows = await sql.rows<{ job_id: string }>(
      `WITH v AS (SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::timestamptz[]) AS v(id, agent_id, started_at)),
            up AS (UPDATE jobs AS j SET status = 'running', started_at = COALESCE(j.started_at, v.started_at)
                     FROM v WHERE j.id = v.id AND j.agent_id = v.agent_id AND j.status = 'dispatched' RETURNING j.id)
       INSERT INTO job_transitions (job_id, status, at, reason) SELECT id, 'running', $4, NULL FROM up RETURNING job_id`,
      [accepted.map((a) => a.jobId), accepted.map((a) => a.agentId), accepted.map((a) => a.startedAt.toISOString()), at],
    );
    return new Set(rows.map((row) => row.job_id));
  }

  /**
   * Moves many jobs to their terminal state in one statement (with transitions), each only
   * from the state it was read in (`from`). Returns the ids that moved.
   */
  async finishMany(sql: Sql, results: JobCompletion[], at: Date): Promise<Set<string>> {
    if (results.length === 0) return new Set();
    const input = results.map((r) => ({
      id: r.jobId,
      from_status: r.from,
      status: r.to,
      started_at: r.startedAt?.toISOString() ?? null,
      finished_at: r.finishedAt.toISOString(),
      error: r.error,
      log: r.log,
      snapshot_ids: r.snapshotIds,
      result: r.result,
      reason: r.reason,
    }));
    const rows = await sql.rows<{ job_id: string }>(
      `WITH v AS (
         SELECT * FROM jsonb_to_recordset($1::jsonb) AS v(id uuid, from_status text, status text, started_at timestamptz,
                finished_at timestamptz, error text, log jsonb, snapshot_ids text[], result jsonb, reason text)
       ), up AS (
         UPDATE jobs AS j SET status = v.status, started_at = COALESCE(j.started_at, v.started_at), finished_at = v.finished_at,
                error = v.error, log = v.log, snapshot_ids = v.snapshot_ids, result = v.result
           FROM v WHERE j.id = v.id AND j.status = v.from_status
         RETURNING j.id, j.status
       )
       INSERT INTO job_transitions (job_id, status, at, reason)
       SELECT up.id, up.status, $2, v.reason FROM up JOIN v ON v.id = up.id
       RETURNING job_id`,
      [JSON.stringify(input), at],
    );
    return new Set(rows.map((row) => row.job_id));
  }

  /** Marks queued jobs dispatched (one statement, with their transitions); returns the ids marked. */
  async markDispatched(sql: Sql, ids: string[], at: Date): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const rows = await sql.rows<{ job_id: string }>(
      `WITH up AS (UPDATE jobs SET status = 'dispatched', dispatched_at = $2
                    WHERE id = ANY($1::uuid[]) AND status = 'queued' RETURNING id)
       INSERT INTO job_transitions (job_id, status, at, reason) SELECT id, 'dispatched', $2, NULL FROM up RETURNING job_id`,
      [ids, at],
    );
    return new Set(rows.map((row) => row.job_id));
  }

  /**
   * Moves the `dispatched` transitions stored at `storedAt` (with the job, before its RunJob
   * was written) to the time each RunJob was handed to its stream. Only those transition
   * rows: the job rows keep `dispatched_at` = the commit-side time (what re-sending goes by)
   * and are not locked, so agents' results are never held up by this.
   */
  async stampDispatched(sent: { jobId: string; at: Date }[], storedAt: Date): Promise<void> {
    if (sent.length === 0) return;
    await this.db.rows(
      `UPDATE job_transitions AS t SET at = v.at
         FROM unnest($1::uuid[], $2::timestamptz[]) AS v(job_id, at)
        WHERE t.job_id = v.job_id AND t.status = 'dispatched' AND t.at = $3`,
      [sent.map((s) => s.jobId), sent.map((s) => s.at.toISOString()), storedAt],
    );
  }

  /** Notes that a person asked to cancel a dispatched/running job (the agent is told; its answer decides). */
  async markCancelRequested(jobId: string, at: Date): Promise<void> {
    await this.db.rows(`UPDATE jobs SET cancel_requested_at = COALESCE(cancel_requested_at, $2) WHERE id = $1`, [jobId, at]);
  }

  /** Newest first. */
  async list(filter: JobFilter): Promise<JobRecord[]> {
    const rows = await this.db.rows<JobRow>(
      `${SELECT_JOB}
        WHERE ($1::text[] IS NULL OR j.status = ANY($1::text[]))
          AND ($2::text IS NULL OR a.name = $2)
          AND ($3::text IS NULL OR j.policy_name = $3)
        ORDER BY j.created_at DESC, j.id DESC
        LIMIT $4`,
      [filter.statuses?.length ? filter.statuses : null, filter.agentName ?? null, filter.policyName ?? null, filter.limit],
    );
    return rows.map(toRecord);
  }

  /** Oldest first. */
  async transitions(jobId: string): Promise<JobTransition[]> {
    const rows = await this.db.rows<{ status: JobStatus; at: Date; reason: string | null }>(
      `SELECT status, at, reason FROM job_transitions WHERE job_id = $1 ORDER BY id`,
      [jobId],
    );
    return rows.map((row) => ({ status: row.status, at: new Date(row.at), reason: row.reason }));
  }

  /**
   * Queued jobs due by `now` for the given agents, oldest first, row-locked; rows another
   * controller already holds are skipped (`SKIP LOCKED`), so no job is sent twice.
   */
  async claimQueued(sql: Sql, agentIds: string[], now: Date, limit: number): Promise<JobRecord[]> {
    const rows = await sql.rows<JobRow>(
      `${SELECT_JOB}
        WHERE j.status = 'queued' AND j.scheduled_for <= $2 AND j.agent_id = ANY($1::uuid[])
          -- jobs whose policy is at its per-agent limit wait without crowding out the others
          AND (j.max_jobs_per_agent IS NULL OR j.policy_id IS NULL OR j.max_jobs_per_agent > (
                SELECT count(*) FROM jobs r
                 WHERE r.agent_id = j.agent_id AND r.policy_id = j.policy_id AND r.status IN ('dispatched', 'running')))
        ORDER BY j.scheduled_for, j.created_at
        LIMIT $3
        FOR UPDATE OF j SKIP LOCKED`,
      [agentIds, now, limit],
    );
    return rows.map(toRecord);
  }

  /**
   * Agents and repositories of the queued jobs due by `now` (no locks: a cheap look on the
   * partial index of queued jobs, so an idle dispatcher round costs one small query).
   */
  async dueWork(now: Date): Promise<{ agentId: string; repositoryName: string }[]> {
    const rows = await this.db.rows<{ agent_id: string; repository_name: string }>(
      `SELECT DISTINCT agent_id, repository_name FROM jobs WHERE status = 'queued' AND scheduled_for <= $1`,
      [now],
    );
    return rows.map((row) => ({ agentId: row.agent_id, repositoryName: row.repository_name }));
  }

  /** Dispatched/running jobs per agent and policy (keys from `limitKey`). */
  async activeCounts(sql: Sql, agentIds: string[]): Promise<Map<string, number>> {
    const rows = await sql.rows<{ agent_id: string; policy_id: string; count: number }>(
      `SELECT agent_id, policy_id, count(*)::int AS count FROM jobs
        WHERE status IN ('dispatched', 'running') AND policy_id IS NOT NULL AND agent_id = ANY($1::uuid[])
        GROUP BY agent_id, policy_id`,
      [agentIds],
    );
    return new Map(rows.map((row) => [limitKey(row.agent_id, row.policy_id), row.count]));
  }

  /** The agent's dispatched and running jobs. */
  async activeOfAgent(agentId: string): Promise<JobRecord[]> {
    const rows = await this.db.rows<JobRow>(
      `${SELECT_JOB} WHERE j.agent_id = $1 AND j.status IN ('dispatched', 'running') ORDER BY j.dispatched_at`,
      [agentId],
    );
    return rows.map(toRecord);
  }

  /** Dispatched jobs without a JobAccepted since `before` (to send again). */
  async staleDispatched(before: Date, limit: number): Promise<JobRecord[]> {
    const rows = await this.db.rows<JobRow>(`${SELECT_JOB} WHERE j.status = 'dispatched' AND j.dispatched_at < $1 LIMIT $2`, [before, limit]);
    return rows.map(toRecord);
  }

  /** Status of each known id (unknown ids are absent). */
  async statuses(ids: string[]): Promise<Map<string, { status: JobStatus; agentId: string }>> {
    const valid = ids.filter(isUuid);
    if (valid.length === 0) return new Map();
    const rows = await this.db.rows<{ id: string; status: JobStatus; agent_id: string }>(
      `SELECT id, status, agent_id FROM jobs WHERE id = ANY($1::uuid[])`,
      [valid],
    );
    return new Map(rows.map((row) => [row.id, { status: row.status, agentId: row.agent_id }]));
  }

  /** Queued jobs past their start deadline whose agent is offline or revoked, row-locked. */
  async overdueQueued(sql: Sql, now: Date, limit: number): Promise<OverdueQueuedJob[]> {
    const rows = await sql.rows<JobRow & { agent_last_seen_at: Date | null; agent_revoked_at: Date | null }>(
      `SELECT j.*, a.name AS agent_name, a.last_seen_at AS agent_last_seen_at, a.revoked_at AS agent_revoked_at
         FROM jobs j JOIN agents a ON a.id = j.agent_id
        WHERE j.status = 'queued' AND j.start_deadline < $1 AND (a.status <> 'online' OR a.revoked_at IS NOT NULL)
        ORDER BY j.start_deadline
        LIMIT $2
        FOR UPDATE OF j SKIP LOCKED`,
      [now, limit],
    );
    return rows.map((row) => ({
      job: toRecord(row),
      agentLastSeenAt: row.agent_last_seen_at && new Date(row.agent_last_seen_at),
      agentRevoked: row.agent_revoked_at !== null,
    }));
  }

  /** Dispatched/running jobs with a timeout whose result is overdue by more than `graceSeconds`, row-locked. */
  async overdueActive(sql: Sql, now: Date, graceSeconds: number, limit: number): Promise<JobRecord[]> {
    const rows = await sql.rows<JobRow>(
      `${SELECT_JOB}
        WHERE j.status IN ('dispatched', 'running') AND j.timeout_seconds > 0
          AND COALESCE(j.started_at, j.dispatched_at) + make_interval(secs => j.timeout_seconds + $2) < $1
        LIMIT $3
        FOR UPDATE OF j SKIP LOCKED`,
      [now, graceSeconds, limit],
    );
    return rows.map(toRecord);
  }

  /** The agent's queued, dispatched and running jobs, row-locked. */
  async unfinishedOfAgent(sql: Sql, agentId: string): Promise<JobRecord[]> {
    const rows = await sql.rows<JobRow>(
      `${SELECT_JOB} WHERE j.agent_id = $1 AND j.status IN ('queued', 'dispatched', 'running') FOR UPDATE OF j`,
      [agentId],
    );
    return rows.map(toRecord);
  }

  /**
   * Writes the progress of many jobs in one statement; only for jobs of the reporting agent
   * that are still active. Returns the ids written.
   */
  async saveProgress(batch: { jobId: string; agentId: string; progress: JobProgress }[]): Promise<Set<string>> {
    if (batch.length === 0) return new Set();
    const rows = await this.db.rows<{ id: string }>(
      `UPDATE jobs AS j SET progress = v.progress
         FROM unnest($1::uuid[], $2::uuid[], $3::jsonb[]) AS v(id, agent_id, progress)
        WHERE j.id = v.id AND j.agent_id = v.agent_id AND j.status IN ('dispatched', 'running')
        RETURNING j.id`,
      [batch.map((row) => row.jobId), batch.map((row) => row.agentId), batch.map((row) => JSON.stringify(row.progress))],
    );
    return new Set(rows.map((row) => row.id));
  }
}

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True for a well-formed UUID (job ids from outside are checked before they reach SQL). */
export function isUuid(text: string): boolean {
  return UUID_PATTERN.test(text);
}

function toRecord(row: JobRow): JobRecord {
  return {
    id: row.id,
    kind: row.kind,
    status: row.status,
    trigger: row.trigger,
    policyId: row.policy_id,
    policyName: row.policy_name,
    agentId: row.agent_id,
    agentName: row.agent_name,
    repositoryName: row.repository_name,
    scheduleKey: row.schedule_key,
    scheduledFor: new Date(row.scheduled_for),
    startDeadline: new Date(row.start_deadline),
    startDeadlineSeconds: row.start_deadline_seconds,
    late: row.late,
    timeoutSeconds: row.timeout_seconds,
    attempt: row.attempt,
    maxAttempts: row.max_attempts,
    retryBackoffSeconds: row.retry_backoff_seconds,
    maxJobsPerAgent: row.max_jobs_per_agent,
    retryOf: row.retry_of,
    spec: row.spec,
    progress: row.progress && { ...row.progress, updatedAt: new Date(row.progress.updatedAt) },
    log: row.log ?? [],
    error: row.error,
    snapshotIds: row.snapshot_ids ?? [],
    result: row.result,
    cancelRequestedAt: row.cancel_requested_at && new Date(row.cancel_requested_at),
    createdAt: new Date(row.created_at),
    dispatchedAt: row.dispatched_at && new Date(row.dispatched_at),
    startedAt: row.started_at && new Date(row.started_at),
    finishedAt: row.finished_at && new Date(row.finished_at),
  };
}
