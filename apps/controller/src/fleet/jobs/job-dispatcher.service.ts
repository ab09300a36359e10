import { HttpException, HttpStatus, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { RepositoryAccessSecret, RepositoryDirectory, SecretDirectory } from '../../shared/fleet-ports';
import { AgentSession, AgentSessions } from '../agents/agent-sessions';
import { Clock } from '../shared/clock';
import { FleetDatabase, Sql } from '../shared/database';
import { FleetEvents } from '../shared/fleet-events';
import { PeriodicTask } from '../shared/periodic-task';
import { selectWithinLimits } from './dispatch-plan';
import { secretNamesOf } from './job-factory';
import { isTerminal } from './job-state';
import { isUuid, JobStore } from './job.store';
import type { JobDraft, JobRecord } from './job.types';

/** How often the dispatcher looks for due jobs without being asked. */
export const DISPATCH_TICK_MS = 1_000;
/** Jobs claimed per transaction. */
const DISPATCH_BATCH = 2_000;
/** A dispatched job the agent has not accepted after this long is sent again (at most this often). */
const RESEND_AFTER_MS = 30_000;

/**
 * Sends queued jobs to connected agents. The database is the truth: a job is marked
 * dispatched (and committed) before its RunJob is written to the stream, and whatever a
 * stream lost is sent again when the agent says Hello (or by the slow re-send sweep). The
 * agent runs a job id at most once, so sending twice is harmless; not sending is not.
 *
 * Runs on a tick, and at once when jobs are queued or an agent connects. Only agents
 * connected to this process are served; `FOR UPDATE SKIP LOCKED` keeps replicas apart.
 */
@Injectable()
export class JobDispatcher implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(JobDispatcher.name);
  private readonly task: PeriodicTask;
  private readonly resentAt = new Map<string, number>();
  private lastResendSweep = 0;

  constructor(
    private readonly store: JobStore,
    private readonly db: FleetDatabase,
    private readonly sessions: AgentSessions,
    private readonly repositories: RepositoryDirectory,
    private readonly secrets: SecretDirectory,
    private readonly events: FleetEvents,
    private readonly clock: Clock,
  ) {
    this.task = new PeriodicTask('job dispatch', DISPATCH_TICK_MS, () => this.tick(), this.logger);
  }

  onModuleInit(): void {
    this.events.on('job.queued', () => this.kick());
    this.task.start();
  }

  async onModuleDestroy(): Promise<void> {
    await this.task.stop();
  }

  /** Look for work now. */
  kick(): void {
    this.task.trigger();
  }

  /**
   * Stores new jobs and sends at once those whose agent is connected to this process (and
   * within its policy's per-agent limit): they are inserted already dispatched, in the same
   * statement, and sent right after the commit — one round trip instead of insert, then
   * claim. The rest stay queued for the dispatch rounds. Returns the jobs as stored
   * (queued or dispatched), named from `agentNames` (by agent id), so that callers need
   * not read a burst back while its RunJobs are still being flushed.
   */
  async createJobs(drafts: JobDraft[], agentNames: ReadonlyMap<string, string>): Promise<JobRecord[]> {
    const now = this.clock.now();
    const direct = drafts.filter(
      (draft) => draft.status === 'queued' && draft.scheduledFor.getTime() <= now.getTime() && this.sessions.isConnected(draft.agentId),
    );
    // Looked up before the transaction (see `tick`).
    const access = await this.resolveAll([...new Set(direct.map((draft) => draft.repositoryName))]);
    const { inserted, chosen } = await this.db.transaction(async (sql) => {
      const candidates = direct.filter((draft) => access.get(draft.repositoryName));
      const active = candidates.length > 0 ? await this.store.activeCounts(sql, [...new Set(candidates.map((draft) => draft.agentId))]) : new Map<string, number>();
      const chosen = new Set(selectWithinLimits(candidates, active).map((draft) => draft.id));
      return { inserted: new Set(await this.store.insert(sql, drafts, now, chosen)), chosen };
    });
    const jobs = drafts.filter((draft) => inserted.has(draft.id)).map((draft) => storedRecord(draft, agentNames.get(draft.agentId) ?? '', now, chosen.has(draft.id)));
    const toSend = jobs.filter((job) => job.status === 'dispatched').map((job) => ({ job, access: access.get(job.repositoryName)! }));
    await this.sendAll(toSend, now);
    if (jobs.length > toSend.length) this.kick();
    return jobs;
  }

  /**
   * Writes the RunJobs of jobs just marked dispatched (committed) at `dispatchedAt`, then
   * moves their `dispatched` transitions to the time each was handed to its stream, so a
   * job's history shows how long storing took and how long sending took.
   *
   * All of them are written in one go: the streams flush (HTTP/2 framing, TLS, socket) when
   * the event loop next turns. Letting it turn every 100 or 250 messages put the first ones
   * on the wire sooner but made the last ones later (p99 of a 1,000-job burst 234 and
   * 210 ms instead of 179 ms): every turn also reads and handles the agents' answers to
   * the messages already sent.
   */
  private async sendAll(items: { job: JobRecord; access: RepositoryAccessSecret }[], dispatchedAt: Date): Promise<void> {
    const sent: { jobId: string; at: Date }[] = [];
    for (const { job, access } of items) {
      const session = this.sessions.get(job.agentId);
      // No session any more: the job stays dispatched and is sent again on the next Hello.
      if (session && (await this.sendRunJob(session, job, access))) sent.push({ jobId: job.id, at: this.clock.now() });
    }
    // Only a time in the history: the jobs are stored and sent, so a failure here must not
    // fail the caller (a POST would answer 500 for a run that started).
    await this.store.stampDispatched(sent, dispatchedAt).catch((error: Error) => {
      this.logger.warn(`could not record when ${sent.length} job(s) were sent: ${error.message}`);
    });
  }

  /**
   * Reconciles after an agent's Hello: jobs the database says it holds but it does not
   * report running are sent again (the agent answers from its outbox if it already ran
   * them); jobs it runs that the controller has already finished are cancelled on it.
   */
  async agentConnected(agentId: string, runningJobIds: string[]): Promise<void> {
    const session = this.sessions.get(agentId);
    if (!session) return;
    const running = new Set(runningJobIds);
    const now = this.clock.now();
    const active = await this.store.activeOfAgent(agentId);
    for (const job of active) {
      if (running.has(job.id)) {
        if (job.status === 'dispatched') {
          await this.store.transition(this.db, {
            jobId: job.id,
            to: 'running',
            from: ['dispatched'],
            agentId,
            at: now,
            reason: 'the agent reports it running',
            set: { startedAt: now },
          });
        }
        continue;
      }
      const access = await this.accessOrFail(this.db, job, now);
      if (access && (await this.sendRunJob(session, job, access))) {
        this.logger.log(`sent job ${job.id} to agent ${job.agentName} again after it reconnected`);
      }
    }

    const known = new Set(active.map((job) => job.id));
    const others = runningJobIds.filter((id) => !known.has(id));
    if (others.length > 0) {
      const statuses = await this.store.statuses(others);
      for (const id of others) {
        const entry = statuses.get(id);
        if (entry && entry.agentId === agentId && isTerminal(entry.status)) {
          session.send({ type: 'cancelJob', jobId: id, reason: `the controller has already recorded this job as ${entry.status}` });
        } else if (!entry) {
          this.logger.warn(`agent ${session.agentName} reports running job ${isUuid(id) ? id : '(malformed id)'}, which the controller does not know`);
        }
      }
    }
    this.kick();
  }

  private async tick(): Promise<void> {
    if (this.sessions.size === 0) return;
    for (;;) {
      const now = this.clock.now();
      const due = (await this.store.dueWork(now)).filter((work) => this.sessions.isConnected(work.agentId));
      if (due.length === 0) break;
      // Secrets are looked up before the transaction: the lookup uses its own connection,
      // and holding row locks while waiting for another pooled connection could deadlock
      // a small pool (the embedded database has a pool of one).
      const access = await this.resolveAll([...new Set(due.map((work) => work.repositoryName))]);
      const agentIds = [...new Set(due.map((work) => work.agentId))];
      const { toSend, more } = await this.db.transaction((sql) => this.claim(sql, agentIds, access, now));
      await this.sendAll(toSend, now);
      if (!more) break;
    }
    await this.resendStale();
  }

  /** Claims due jobs within their limits and marks them dispatched; fails jobs whose repository is gone. */
  private async claim(sql: Sql, agentIds: string[], access: Map<string, RepositoryAccessSecret | null>, now: Date) {
    const candidates = await this.store.claimQueued(sql, agentIds, now, DISPATCH_BATCH);
    if (candidates.length === 0) return { toSend: [], more: false };
    const active = await this.store.activeCounts(sql, [...new Set(candidates.map((job) => job.agentId))]);
    const ready: JobRecord[] = [];
    for (const job of selectWithinLimits(candidates, active)) {
      const secret = access.get(job.repositoryName);
      if (secret) ready.push(job);
      else if (secret === null) await this.failUnregistered(sql, job, now);
      // undefined: queued after the lookup; the next round takes it.
    }
    const dispatched = await this.store.markDispatched(sql, ready.map((job) => job.id), now);
    return {
      toSend: ready
        .filter((job) => dispatched.has(job.id))
        .map((job) => ({ job: { ...job, status: 'dispatched' as const, dispatchedAt: now }, access: access.get(job.repositoryName)! })),
      more: candidates.length === DISPATCH_BATCH && ready.length > 0,
    };
  }

  /** Access per repository name; null for a repository that is not registered (any more). */
  private async resolveAll(names: string[]): Promise<Map<string, RepositoryAccessSecret | null>> {
    const access = new Map<string, RepositoryAccessSecret | null>();
    for (const name of names) access.set(name, await this.resolve(name));
    return access;
  }

  private async resolve(name: string): Promise<RepositoryAccessSecret | null> {
    try {
      return await this.repositories.resolveAccess(name);
    } catch (error) {
      if (error instanceof HttpException && error.getStatus() === HttpStatus.NOT_FOUND) return null;
      throw error;
    }
  }

  /** The repository's access for a job being (re-)sent; fails the job when the repository is gone. */
  private async accessOrFail(sql: Sql, job: JobRecord, now: Date): Promise<RepositoryAccessSecret | undefined> {
    const access = await this.resolve(job.repositoryName);
    if (access) return access;
    await this.failUnregistered(sql, job, now);
    return undefined;
  }

  /**
   * Sends a RunJob with the values of the secrets its spec names (database passwords),
   * looked up now so that they exist only in the message. A job naming a secret that does
   * not exist fails with "secret NAME does not exist". False when nothing was sent.
   */
  private async sendRunJob(session: AgentSession, job: JobRecord, access: RepositoryAccessSecret): Promise<boolean> {
    const names = secretNamesOf(job.spec);
    if (names.length === 0) return session.send({ type: 'runJob', job, access });
    const values = await this.secrets.resolveSecrets(names);
    const missing = names.filter((name) => !values.has(name));
    if (missing.length > 0) {
      const message = missing.map((name) => `secret ${name} does not exist`).join('; ');
      const now = this.clock.now();
      await this.store.transition(this.db, { jobId: job.id, to: 'failed', from: ['queued', 'dispatched', 'running'], at: now, reason: message, set: { finishedAt: now, error: message } });
      this.logger.warn(`job ${job.id} failed: ${message}`);
      return false;
    }
    return session.send({ type: 'runJob', job, access, secrets: Object.fromEntries(values) });
  }

  private async failUnregistered(sql: Sql, job: JobRecord, now: Date): Promise<void> {
    const message = `repository "${job.repositoryName}" is not registered any more`;
    await this.store.transition(sql, { jobId: job.id, to: 'failed', at: now, reason: message, set: { finishedAt: now, error: message } });
    this.logger.warn(`job ${job.id} failed: ${message}`);
  }

  /** Slow reconciliation: dispatched jobs not accepted for a while are sent again. */
  private async resendStale(): Promise<void> {
    const now = this.clock.now().getTime();
    if (now - this.lastResendSweep < RESEND_AFTER_MS) return;
    this.lastResendSweep = now;
    for (const [id, at] of this.resentAt) if (now - at > 10 * RESEND_AFTER_MS) this.resentAt.delete(id);

    const stale = await this.store.staleDispatched(new Date(now - RESEND_AFTER_MS), 1000);
    for (const job of stale) {
      if (now - (this.resentAt.get(job.id) ?? 0) < RESEND_AFTER_MS) continue;
      const session = this.sessions.get(job.agentId);
      if (!session) continue;
      const access = await this.accessOrFail(this.db, job, new Date(now));
      if (access && (await this.sendRunJob(session, job, access))) {
        this.resentAt.set(job.id, now);
        this.logger.warn(`job ${job.id} was not accepted by agent ${job.agentName} within 30s; sent it again`);
      }
    }
  }
}

/**
 * The record of a job just inserted, as the database now holds it. Fields are listed rather
 * than spread from the draft: a spread of this size cost ~10 µs per job, a tenth of a
 * burst's sending time.
 */
function storedRecord(draft: JobDraft, agentName: string, now: Date, dispatched: boolean): JobRecord {
  const missed = draft.status === 'missed';
  return {
    id: draft.id,
    kind: draft.kind,
    status: dispatched ? 'dispatched' : draft.status,
    trigger: draft.trigger,
    policyId: draft.policyId,
    policyName: draft.policyName,
    agentId: draft.agentId,
    agentName,
    repositoryName: draft.repositoryName,
    scheduleKey: draft.scheduleKey,
    scheduledFor: draft.scheduledFor,
    startDeadline: new Date(draft.scheduledFor.getTime() + draft.startDeadlineSeconds * 1000),
    startDeadlineSeconds: draft.startDeadlineSeconds,
    late: draft.late,
    timeoutSeconds: draft.timeoutSeconds,
    attempt: draft.attempt,
    maxAttempts: draft.maxAttempts,
    retryBackoffSeconds: draft.retryBackoffSeconds,
    maxJobsPerAgent: draft.maxJobsPerAgent,
    retryOf: draft.retryOf,
    spec: draft.spec,
    progress: null,
    log: [],
    error: missed ? draft.reason : null,
    snapshotIds: [],
    result: null,
    cancelRequestedAt: null,
    createdAt: now,
    dispatchedAt: dispatched ? now : null,
    startedAt: null,
    finishedAt: missed ? now : null,
  };
}
