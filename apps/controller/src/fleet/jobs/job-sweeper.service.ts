import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { formatDurationSeconds } from '@coffer/contracts';
import { AgentSessions } from '../agents/agent-sessions';
import { Clock } from '../shared/clock';
import { FleetDatabase } from '../shared/database';
import { FleetEvents } from '../shared/fleet-events';
import { PeriodicTask } from '../shared/periodic-task';
import { retryJob } from './job-factory';
import { JobStore } from './job.store';
import type { JobDraft, JobRecord } from './job.types';

/** How often deadlines are checked. */
export const SWEEP_TICK_MS = 5_000;
/** Extra time past a job's timeout before the controller gives up on hearing its result. */
export const TIMEOUT_GRACE_SECONDS = 60;
const SWEEP_BATCH = 500;

/**
 * Deadlines the agents cannot enforce themselves:
 *  - a queued job whose agent is offline (or revoked) past the job's start deadline fails
 *    with "agent offline: NAME has not been connected since <time>";
 *  - a dispatched/running job with no result by its timeout + 60 s grace is timed_out (and
 *    the agent, if connected, is told to stop it);
 *  - revoking an agent fails its unfinished jobs (never retried).
 * Failed and timed-out jobs with attempts left get their retry here, as after a JobFinished.
 */
@Injectable()
export class JobSweeper implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(JobSweeper.name);
  private readonly task: PeriodicTask;

  constructor(
    private readonly store: JobStore,
    private readonly db: FleetDatabase,
    private readonly sessions: AgentSessions,
    private readonly events: FleetEvents,
    private readonly clock: Clock,
  ) {
    this.task = new PeriodicTask('job deadlines', SWEEP_TICK_MS, () => this.sweep(), this.logger);
  }

  onModuleInit(): void {
    this.events.on('agent.revoked', async (event) => {
      await this.failJobsOfRevokedAgent(event.agentId, event.name);
    });
    this.task.start();
  }

  async onModuleDestroy(): Promise<void> {
    await this.task.stop();
  }

  async sweep(): Promise<void> {
    await this.failUnstartable();
    await this.timeOutSilent();
  }

  private async failUnstartable(): Promise<void> {
    const now = this.clock.now();
    const { failed, retries } = await this.db.transaction(async (sql) => {
      const overdue = await this.store.overdueQueued(sql, now, SWEEP_BATCH);
      const drafts: JobDraft[] = [];
      for (const { job, agentLastSeenAt, agentRevoked } of overdue) {
        const error = agentRevoked
          ? `agent ${job.agentName} has been revoked`
          : agentLastSeenAt
            ? `agent offline: ${job.agentName} has not been connected since ${agentLastSeenAt.toISOString()}`
            : `agent offline: ${job.agentName} has not been connected since it enrolled`;
        await this.store.transition(sql, {
          jobId: job.id,
          to: 'failed',
          from: ['queued'],
          at: now,
          reason: 'not started before its start deadline',
          set: { finishedAt: now, error },
        });
        // An offline agent may be back for the next attempt; a revoked one never is.
        const retry = agentRevoked ? undefined : retryJob(job, now, error);
        if (retry) drafts.push(retry);
      }
      await this.store.insert(sql, drafts, now);
      return { failed: overdue, retries: drafts };
    });
    for (const { job } of failed) this.logger.warn(`job ${job.id} on agent ${job.agentName} failed: its agent stayed offline past the start deadline`);
    if (retries.length > 0) await this.events.emit('job.queued', { count: retries.length });
  }

  private async timeOutSilent(): Promise<void> {
    const now = this.clock.now();
    const { timedOut, retries } = await this.db.transaction(async (sql) => {
      const overdue = await this.store.overdueActive(sql, now, TIMEOUT_GRACE_SECONDS, SWEEP_BATCH);
      const drafts: JobDraft[] = [];
      for (const job of overdue) {
        const error = `no result from agent ${job.agentName} within the job's ${formatDurationSeconds(job.timeoutSeconds)} timeout (+${TIMEOUT_GRACE_SECONDS}s grace)`;
        await this.store.transition(sql, {
          jobId: job.id,
          to: 'timed_out',
          from: [job.status],
          at: now,
          reason: 'no result by its timeout',
          set: { finishedAt: now, error },
        });
        const retry = retryJob(job, now, error);
        if (retry) drafts.push(retry);
      }
      await this.store.insert(sql, drafts, now);
      return { timedOut: overdue, retries: drafts };
    });
    for (const job of timedOut) {
      this.logger.warn(`job ${job.id} on agent ${job.agentName} timed out on the controller`);
      this.sessions.get(job.agentId)?.send({ type: 'cancelJob', jobId: job.id, reason: 'the controller gave up waiting (timed out)' });
    }
    if (retries.length > 0) await this.events.emit('job.queued', { count: retries.length });
  }

  /** Fails every unfinished job of a revoked agent (no retries: the agent is gone for good). */
  async failJobsOfRevokedAgent(agentId: string, name: string): Promise<JobRecord[]> {
    const now = this.clock.now();
    const error = `agent ${name} has been revoked`;
    const jobs = await this.db.transaction(async (sql) => {
      const unfinished = await this.store.unfinishedOfAgent(sql, agentId);
      for (const job of unfinished) {
        await this.store.transition(sql, { jobId: job.id, to: 'failed', from: [job.status], at: now, reason: error, set: { finishedAt: now, error } });
      }
      return unfinished;
    });
    if (jobs.length > 0) this.logger.warn(`${jobs.length} unfinished job(s) of revoked agent ${name} failed`);
    return jobs;
  }
}
