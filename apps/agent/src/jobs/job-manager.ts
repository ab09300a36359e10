import type { Logger } from '../shared/logger';
import type { AbortReason } from './job-abort';
import type { JobEnd, JobHandle, JobLauncher } from './job-launcher';
import { AGENT_STOPPED_MESSAGE, isUsableJobId, JobLedger } from './job-ledger';
import { JobLog } from './job-log';
import { emptyResult, JobKind, JobOutcome, JobProgressReport, JobRequest, JobResult } from './job-types';

/** Where job events go: the controller stream while one is open. */
export interface JobEventSink {
  accepted(jobId: string, startedAtMs: number): void;
  progress(report: JobProgressReport): void;
  finished(result: JobResult): void;
}

/** Settings of a JobManager; the defaults are production's. */
export interface JobManagerOptions {
  ledger: JobLedger;
  launcher: JobLauncher;
  /** The agent's name (the host its snapshots record). */
  agentName: string;
  logger: Logger;
  /** How long a job asked to stop gets before its process is killed. */
  abortGraceMs?: number;
  now?: () => number;
  /** Told of every job that starts (the health collector learns the paths backed up). */
  onJobStarted?: (request: JobRequest) => void;
}

interface RunningJob {
  jobId: string;
  kind: JobKind;
  startedAtMs: number;
  timeoutSeconds: number;
  handle: JobHandle;
  log: JobLog;
  stopReason?: AbortReason;
  cancelMessage?: string;
  timers: NodeJS.Timeout[];
  done: Promise<void>;
}

/** A job asked to stop gets this long to unwind (release locks) before it is killed. */
const DEFAULT_ABORT_GRACE_MS = 15_000;

/**
 * Runs the controller's jobs, each job id AT MOST ONCE, and makes sure every result reaches
 * the controller:
 * - a job is recorded `running` in the ledger before it starts; a repeated RunJob is
 *   answered from memory (JobAccepted) or from the ledger (JobFinished), never run again;
 * - a result is recorded in the ledger before it is sent, stays in the outbox until the
 *   controller acks it (re-sent by resendOutbox on every reconnect), then is a tombstone;
 * - jobs do not depend on the stream: one that is running when the controller goes away
 *   keeps running, and its result waits in the outbox.
 */
export class JobManager {
  private readonly running = new Map<string, RunningJob>();
  private sink: JobEventSink | undefined;
  private readonly abortGraceMs: number;
  private readonly now: () => number;

  constructor(private readonly options: JobManagerOptions) {
    this.abortGraceMs = options.abortGraceMs ?? DEFAULT_ABORT_GRACE_MS;
    this.now = options.now ?? Date.now;
  }

  /** Sets where events go; undefined while no stream is open (results wait in the outbox). */
  setSink(sink: JobEventSink | undefined): void {
    this.sink = sink;
  }

  runningJobIds(): string[] {
    return [...this.running.keys()];
  }

  /** RunJob. */
  runJob(request: JobRequest): void {
    const { jobId } = request;
    if (this.answerKnown(jobId)) return;
    const kind = request.spec.kind;
    if (!isUsableJobId(jobId)) {
      this.sink?.finished(this.failedResult(jobId, kind, `job id "${jobId.slice(0, 80)}" is not usable: the agent did not run it`));
      return;
    }
    const startedAtMs = this.now();
    try {
      this.options.ledger.recordStart(jobId, kind, request.attempt, startedAtMs);
    } catch (err) {
      // Without the ledger entry, "at most once" cannot be promised after a crash: do not run.
      this.options.logger.error(`job ${jobId}: cannot record it in the ledger: ${(err as Error).message}`);
      this.sink?.finished(this.failedResult(jobId, kind, `the agent cannot record the job (${(err as Error).message}); it did not run it`));
      return;
    }
    this.options.logger.info(`job ${jobId} (${kind}, attempt ${request.attempt}) accepted`);
    this.sink?.accepted(jobId, startedAtMs);
    this.options.onJobStarted?.(request);
    this.start(request, startedAtMs);
  }

  /**
   * A RunJob the agent cannot run as sent (no spec, unknown kind): recorded as failed like
   * any other job, so a repeat gets the same answer.
   */
  rejectJob(jobId: string, kind: JobKind, message: string): void {
    if (this.answerKnown(jobId)) return;
    this.options.logger.warn(`job ${jobId} rejected: ${message}`);
    this.finishWithoutRunning(this.failedResult(jobId, kind, message));
  }

  /** CancelJob: stop it if it runs; a job not started yet never will be. */
  cancelJob(jobId: string, reason: string): void {
    const job = this.running.get(jobId);
    if (job) {
      job.cancelMessage = reason;
      this.options.logger.info(`job ${jobId}: cancel requested${reason ? ` (${reason})` : ''}`);
      this.stop(job, 'cancel');
      return;
    }
    if (this.answerKnown(jobId)) return;
    const result = { ...emptyResult(jobId, 'backup', this.now()), outcome: 'cancelled' as const, errorMessage: `cancelled before it started${reason ? `: ${reason}` : ''}` };
    this.finishWithoutRunning(result);
  }

  /** JobFinishedAck: the controller has the result durably. */
  acknowledge(jobId: string): void {
    if (this.options.ledger.acknowledge(jobId)) this.options.logger.info(`job ${jobId}: result acknowledged by the controller`);
  }

  /** Sends every result the controller has not acked; called after each Welcome. */
  resendOutbox(): void {
    for (const result of this.options.ledger.outbox()) this.sink?.finished(result);
  }

  /**
   * Stops every running job (they end FAILED, "the agent stopped while the job was
   * running") and resolves once each result is in the ledger.
   */
  async shutdown(): Promise<void> {
    const jobs = [...this.running.values()];
    for (const job of jobs) this.stop(job, 'shutdown');
    await Promise.all(jobs.map((j) => j.done));
  }

  /** Answers a RunJob for a job the agent knows; false when it does not know it. */
  private answerKnown(jobId: string): boolean {
    const job = this.running.get(jobId);
    if (job) {
      this.sink?.accepted(jobId, job.startedAtMs);
      return true;
    }
    const entry = this.options.ledger.get(jobId);
    if (!entry) return false;
    if (entry.state === 'finished' && entry.result) this.sink?.finished(entry.result);
    else this.sink?.accepted(jobId, entry.startedAtMs);
    return true;
  }

  private start(request: JobRequest, startedAtMs: number): void {
    const log = new JobLog();
    const handle = this.options.launcher.launch(request, this.options.agentName, {
      onProgress: (p) => this.sink?.progress({ jobId: request.jobId, ...p }),
      onLog: (line) => log.add(line),
    });
    const job: RunningJob = {
      jobId: request.jobId,
      kind: request.spec.kind,
      startedAtMs,
      timeoutSeconds: request.timeoutSeconds,
      handle,
      log,
      timers: [],
      done: Promise.resolve(),
    };
    if (request.timeoutSeconds > 0) {
      job.timers.push(setTimeout(() => this.stop(job, 'timeout'), request.timeoutSeconds * 1000));
    }
    job.done = handle.ended.then((end) => this.complete(job, end));
    this.running.set(job.jobId, job);
  }

  private stop(job: RunningJob, reason: AbortReason): void {
    if (job.stopReason) return;
    job.stopReason = reason;
    job.handle.abort(reason);
    const grace = setTimeout(() => {
      job.log.add(`the job did not stop within ${Math.round(this.abortGraceMs / 1000)} s of being asked to: its process was killed`);
      job.handle.kill();
    }, this.abortGraceMs);
    job.timers.push(grace);
  }

  private complete(job: RunningJob, end: JobEnd): void {
    for (const timer of job.timers) clearTimeout(timer);
    const { outcome, message } = this.decideOutcome(job, end);
    const products = end.outcome?.products;
    const result: JobResult = {
      ...emptyResult(job.jobId, job.kind, job.startedAtMs),
      outcome,
      errorMessage: message,
      log: job.log.lines(),
      finishedAtMs: this.now(),
      snapshots: products?.snapshots ?? [],
      forgottenSnapshotIds: products?.forgottenSnapshotIds ?? [],
      restoredFiles: products?.restoredFiles ?? 0,
      restoredBytes: products?.restoredBytes ?? 0,
    };
    this.running.delete(job.jobId);
    try {
      this.options.ledger.recordFinish(result);
    } catch (err) {
      this.options.logger.error(`job ${job.jobId}: cannot record its result in the ledger: ${(err as Error).message}`);
    }
    const said = outcome.replace('_', ' ');
    this.options.logger.info(`job ${job.jobId} (${job.kind}) ${!message ? said : message.startsWith(said) ? message : `${said}: ${message}`}`);
    this.sink?.finished(result);
  }

  /**
   * A job that finished its work is SUCCEEDED even if a stop request came too late to
   * matter (its snapshot exists and must reach the catalog); otherwise a requested stop
   * decides the outcome.
   */
  private decideOutcome(job: RunningJob, end: JobEnd): { outcome: JobOutcome; message: string } {
    if (end.outcome?.ok) {
      if (job.stopReason) job.log.add(`the job had already completed its work when it was asked to stop (${job.stopReason})`);
      return { outcome: 'succeeded', message: '' };
    }
    switch (job.stopReason) {
      case 'cancel':
        return { outcome: 'cancelled', message: `cancelled by the controller${job.cancelMessage ? `: ${job.cancelMessage}` : ''}` };
      case 'timeout':
        return { outcome: 'timed_out', message: `the job did not finish within its time limit of ${job.timeoutSeconds} s` };
      case 'shutdown':
        return { outcome: 'failed', message: AGENT_STOPPED_MESSAGE };
      default:
        return { outcome: 'failed', message: end.outcome?.errorMessage || `the job process ended unexpectedly (${end.exit})` };
    }
  }

  private finishWithoutRunning(result: JobResult): void {
    if (isUsableJobId(result.jobId)) {
      try {
        this.options.ledger.recordFinish(result);
      } catch (err) {
        this.options.logger.error(`job ${result.jobId}: cannot record its result in the ledger: ${(err as Error).message}`);
      }
    }
    this.sink?.finished(result);
  }

  private failedResult(jobId: string, kind: JobKind, message: string): JobResult {
    const now = this.now();
    return { ...emptyResult(jobId, kind, now), outcome: 'failed', errorMessage: message };
  }
}
