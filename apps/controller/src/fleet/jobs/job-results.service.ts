import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { PolicyDirectory, SnapshotCatalog, SnapshotRecordInput, StoredPolicy } from '../../shared/fleet-ports';
import { Clock } from '../shared/clock';
import { FleetDatabase } from '../shared/database';
import { FleetEvents } from '../shared/fleet-events';
import { PeriodicTask } from '../shared/periodic-task';
import { forgetJob, retryJob } from './job-factory';
import { isTerminal, statusForOutcome } from './job-state';
import { isUuid, JobCompletion, JobStore } from './job.store';
import type { JobDraft, JobFinishedReport, JobProgress, JobProgressReport, JobRecord } from './job.types';

/** Progress is written at most this often (per job; all jobs in one statement). */
export const PROGRESS_FLUSH_MS = 1_000;
/** A job keeps at most this many log lines (the newest), each at most this long. */
export const MAX_LOG_LINES = 1_000;
export const MAX_LOG_LINE_LENGTH = 4_000;
/** Reports recorded per batch. */
const MAX_BATCH = 500;
/** Policies are looked up at most this often per name while results stream in. */
const POLICY_CACHE_MS = 5_000;

interface LiveProgress {
  agentId: string;
  progress: JobProgress;
  dirty: boolean;
}

/** A report waiting to be recorded, and the caller waiting for it. */
interface Pending<T> {
  agentId: string;
  report: T;
  done: () => void;
  failed: (error: Error) => void;
}

interface AcceptedReport {
  jobId: string;
  startedAt: Date | null;
}

/**
 * What agents report about their jobs: accepted, progress, finished.
 *
 * Reports are recorded in batches: whatever arrived from all streams while the previous
 * batch was being written goes into the next one (no artificial delay; a lone report is
 * written at once). A burst of a thousand results is then a handful of statements instead
 * of thousands, which is what keeps the controller cheap when a whole fleet finishes at
 * the same minute. Each caller's promise settles when its own report is durable (or has
 * failed: then nothing of it was recorded and the agent must send it again).
 *
 * JobFinished is recorded exactly once. The catalog is written first, through the
 * SnapshotCatalog port, which is idempotent on (repository, snapshot id); then, in one
 * transaction holding the jobs' row locks, the terminal status, times, error, log,
 * snapshot ids and the follow-up jobs (retention, retry) — for jobs that are not terminal
 * yet; a result for a terminal job changes nothing (the caller still acks). The ack is
 * sent only after that commit. If the controller dies in between, the agent re-sends the
 * unacknowledged JobFinished after it reconnects: the catalog write repeats harmlessly and
 * the job row is completed once. (The catalog port runs on its own pooled connection, so
 * it cannot join this transaction; calling it while holding the row locks could deadlock
 * a pool of one connection, as the embedded database has.)
 */
@Injectable()
export class JobResultsService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(JobResultsService.name);
  private readonly live = new Map<string, LiveProgress>();
  private readonly task: PeriodicTask;
  private acceptedQueue: Pending<AcceptedReport>[] = [];
  private finishedQueue: Pending<JobFinishedReport>[] = [];
  private draining: Promise<void> | undefined;
  private readonly policyCache = new Map<string, { policy: StoredPolicy | null; at: number }>();

  constructor(
    private readonly store: JobStore,
    private readonly db: FleetDatabase,
    private readonly policies: PolicyDirectory,
    private readonly catalog: SnapshotCatalog,
    private readonly events: FleetEvents,
    private readonly clock: Clock,
  ) {
    this.task = new PeriodicTask('job progress', PROGRESS_FLUSH_MS, () => this.flushProgress(), this.logger);
  }

  onModuleInit(): void {
    this.task.start();
  }

  async onModuleDestroy(): Promise<void> {
    await this.task.stop();
    await this.draining;
    await this.flushProgress().catch(() => undefined);
  }

  /** The agent started the job: dispatched → running. Resolves once recorded. */
  accepted(agentId: string, jobId: string, startedAt: Date | null): Promise<void> {
    if (!isUuid(jobId)) return Promise.resolve();
    return this.enqueue(this.acceptedQueue, agentId, { jobId, startedAt });
  }

  /**
   * Records a JobFinished. When this resolves the result is durable (or was a repeat) and
   * the caller acks it; when it rejects nothing was recorded and the agent must send it again.
   */
  finished(agentId: string, report: JobFinishedReport): Promise<void> {
    if (!isUuid(report.jobId)) {
      this.logger.warn(`agent ${agentId} reported a result for a malformed job id; acknowledged and dropped`);
      return Promise.resolve();
    }
    return this.enqueue(this.finishedQueue, agentId, report);
  }

  /** Progress is kept in memory and written in batches; the API reads it from here first. */
  progress(agentId: string, report: JobProgressReport): void {
    if (!isUuid(report.jobId)) return;
    const progress: JobProgress = {
      phase: report.phase,
      filesDone: report.filesDone,
      filesTotal: report.filesTotal,
      bytesDone: report.bytesDone,
      bytesTotal: report.bytesTotal,
      bytesPerSecond: report.bytesPerSecond,
      updatedAt: this.clock.now(),
    };
    this.live.set(report.jobId, { agentId, progress, dirty: true });
  }

  /** The freshest progress of a job this process has heard about. */
  liveProgress(job: Pick<JobRecord, 'id' | 'agentId'>): JobProgress | undefined {
    const entry = this.live.get(job.id);
    return entry && entry.agentId === job.agentId ? entry.progress : undefined;
  }

  // ---- batching

  private enqueue<T>(queue: Pending<T>[], agentId: string, report: T): Promise<void> {
    return new Promise<void>((done, failed) => {
      queue.push({ agentId, report, done, failed });
      this.draining ??= this.drain().finally(() => {
        this.draining = undefined;
      });
    });
  }

  /** Records queued reports until none are left; accepted ones before finished ones. */
  private async drain(): Promise<void> {
    while (this.acceptedQueue.length > 0 || this.finishedQueue.length > 0) {
      const accepted = this.acceptedQueue.splice(0, MAX_BATCH);
      await this.settle(accepted, (batch) => this.recordAccepted(batch));
      const finished = this.finishedQueue.splice(0, MAX_BATCH);
      await this.settle(finished, (batch) => this.recordFinished(batch));
    }
  }

  /**
   * Runs `record` for a batch and settles every caller. A failing batch is retried one
   * report at a time, so one bad report fails only its own sender.
   */
  private async settle<T>(batch: Pending<T>[], record: (batch: Pending<T>[]) => Promise<void>): Promise<void> {
    if (batch.length === 0) return;
    try {
      await record(batch);
      for (const pending of batch) pending.done();
      return;
    } catch (error) {
      if (batch.length === 1) {
        batch[0].failed(error as Error);
        return;
      }
    }
    for (const pending of batch) await this.settle([pending], record);
  }

  private async recordAccepted(batch: Pending<AcceptedReport>[]): Promise<void> {
    const now = this.clock.now();
    await this.store.markRunning(
      this.db,
      batch.map(({ agentId, report }) => ({ jobId: report.jobId, agentId, startedAt: report.startedAt ?? now })),
      now,
    );
  }

  private async recordFinished(batch: Pending<JobFinishedReport>[]): Promise<void> {
    // One report per job (a repeat within the batch settles with the first).
    const reports = new Map<string, { agentId: string; report: JobFinishedReport }>();
    for (const { agentId, report } of batch) if (!reports.has(report.jobId)) reports.set(report.jobId, { agentId, report });

    const candidates: { job: JobRecord; report: JobFinishedReport }[] = [];
    const known = new Map((await this.store.findByIds([...reports.keys()])).map((job) => [job.id, job]));
    for (const [jobId, { agentId, report }] of reports) {
      const job = known.get(jobId);
      if (!job) {
        this.logger.warn(`agent ${agentId} reported a result for unknown job ${jobId}; acknowledged and dropped`);
      } else if (job.agentId !== agentId) {
        this.logger.warn(`agent ${agentId} reported a result for job ${jobId} of agent ${job.agentName}; dropped`);
      } else if (isTerminal(job.status)) {
        this.live.delete(jobId); // a repeat: recorded before
      } else {
        candidates.push({ job, report });
      }
    }
    if (candidates.length === 0) return;

    const policies = await this.policiesFor(candidates.map(({ job, report }) => (report.outcome === 'succeeded' && job.kind === 'backup' ? job.policyName : null)));
    await this.recordInCatalog(candidates);

    const now = this.clock.now();
    const { finished, followUps } = await this.db.transaction(async (sql) => {
      const locked = new Map((await this.store.lockMany(sql, candidates.map(({ job }) => job.id))).map((job) => [job.id, job]));
      const completions: JobCompletion[] = [];
      const drafts: JobDraft[] = [];
      const ended: JobRecord[] = [];
      for (const { report } of candidates) {
        const job = locked.get(report.jobId);
        if (!job || isTerminal(job.status)) continue; // a concurrent repeat won
        const status = statusForOutcome(report.outcome);
        const error = status === 'succeeded' ? null : report.errorMessage.trim() || defaultError(status);
        completions.push({
          jobId: job.id,
          from: job.status,
          to: status,
          startedAt: report.startedAt ?? job.dispatchedAt ?? now,
          finishedAt: report.finishedAt ?? now,
          error,
          log: boundLog(report.log),
          snapshotIds: report.snapshots.map((snapshot) => snapshot.id),
          result: {
            restoredFiles: report.restoredFiles || undefined,
            restoredBytes: report.restoredBytes || undefined,
            forgottenSnapshotIds: report.forgottenSnapshotIds.length ? report.forgottenSnapshotIds : undefined,
          },
          reason: job.cancelRequestedAt && status === 'cancelled' ? 'cancelled on request' : null,
        });
        drafts.push(...this.followUps(job, status, error, job.policyName ? policies.get(job.policyName) ?? null : null, now));
        ended.push({ ...job, status, error });
      }
      const moved = await this.store.finishMany(sql, completions, now);
      const stillDue = drafts.filter((draft) => draft.retryOf === null || moved.has(draft.retryOf));
      await this.store.insert(sql, stillDue, now);
      return { finished: ended.filter((job) => moved.has(job.id)), followUps: stillDue };
    });

    for (const { job } of candidates) this.live.delete(job.id);
    this.logResults(finished);
    if (followUps.length > 0) await this.events.emit('job.queued', { count: followUps.length });
  }

  /** The policies named (for retention after a successful backup), from a short-lived cache. */
  private async policiesFor(names: (string | null)[]): Promise<Map<string, StoredPolicy | null>> {
    const now = Date.now();
    const result = new Map<string, StoredPolicy | null>();
    for (const name of new Set(names.filter((n): n is string => n !== null))) {
      const cached = this.policyCache.get(name);
      if (cached && now - cached.at < POLICY_CACHE_MS) {
        result.set(name, cached.policy);
        continue;
      }
      const policy = await this.policies.findByName(name);
      this.policyCache.set(name, { policy, at: now });
      result.set(name, policy);
    }
    return result;
  }

  /** Writes snapshots the jobs reported (idempotent on repository + snapshot id) and forgotten ones. */
  private async recordInCatalog(candidates: { job: JobRecord; report: JobFinishedReport }[]): Promise<void> {
    const snapshots: SnapshotRecordInput[] = [];
    for (const { job, report } of candidates) {
      for (const snapshot of report.snapshots) {
        snapshots.push({ ...snapshot, repositoryName: job.repositoryName, agentName: job.agentName, policyName: job.policyName, jobId: job.id });
      }
      if (job.kind === 'forget' && report.forgottenSnapshotIds.length > 0) {
        await this.catalog.markForgotten(job.repositoryName, report.forgottenSnapshotIds);
      }
    }
    if (snapshots.length > 0) await this.catalog.recordSnapshots(snapshots);
  }

  /** Retention after a successful backup; another attempt after a failure (not after a cancel). */
  private followUps(job: JobRecord, status: string, error: string | null, policy: StoredPolicy | null, now: Date): JobDraft[] {
    const drafts: JobDraft[] = [];
    if (status === 'succeeded' && job.kind === 'backup' && policy) {
      const forget = forgetJob(policy, job.agentId, job.agentName, now);
      if (forget) drafts.push(forget);
    }
    if ((status === 'failed' || status === 'timed_out') && !job.cancelRequestedAt) {
      const retry = retryJob(job, now, error ?? status);
      if (retry) drafts.push(retry);
    }
    return drafts;
  }

  /** One line per failed job; successes one line each, or one summary line for a burst. */
  private logResults(jobs: JobRecord[]): void {
    const what = (job: JobRecord) => `${job.kind} job ${job.id}${job.policyName ? ` of policy ${job.policyName}` : ''} on agent ${job.agentName}`;
    const succeeded = jobs.filter((job) => job.status === 'succeeded');
    for (const job of jobs) if (job.status !== 'succeeded') this.logger.warn(`${what(job)} ${job.status}: ${job.error ?? ''}`);
    if (succeeded.length === 1) this.logger.log(`${what(succeeded[0])} succeeded`);
    else if (succeeded.length > 1) this.logger.log(`${succeeded.length} jobs succeeded (e.g. ${what(succeeded[0])})`);
  }

  private async flushProgress(): Promise<void> {
    const batch: { jobId: string; agentId: string; progress: JobProgress }[] = [];
    for (const [jobId, entry] of this.live) {
      if (!entry.dirty) continue;
      entry.dirty = false;
      batch.push({ jobId, agentId: entry.agentId, progress: entry.progress });
    }
    if (batch.length === 0) return;
    const written = await this.store.saveProgress(batch);
    // Progress for jobs that are not active (finished, or not this agent's) is dropped.
    for (const { jobId } of batch) if (!written.has(jobId)) this.live.delete(jobId);
  }
}

function defaultError(status: string): string {
  switch (status) {
    case 'cancelled':
      return 'cancelled';
    case 'timed_out':
      return 'the job ran longer than its timeout';
    default:
      return 'the job failed (the agent gave no reason)';
  }
}

/** The newest MAX_LOG_LINES lines, each cut to MAX_LOG_LINE_LENGTH. */
export function boundLog(lines: string[]): string[] {
  const kept = lines.length > MAX_LOG_LINES ? lines.slice(lines.length - MAX_LOG_LINES) : lines;
  const cut = kept.map((line) => (line.length > MAX_LOG_LINE_LENGTH ? `${line.slice(0, MAX_LOG_LINE_LENGTH)}…` : line));
  if (lines.length > MAX_LOG_LINES) cut.unshift(`(${lines.length - MAX_LOG_LINES} earlier lines left out)`);
  return cut;
}
