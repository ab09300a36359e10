import { HttpStatus, Injectable, Logger } from '@nestjs/common';
import { JobDetailView, JobStatus, JobView, PolicyHooks, RestoreDatabaseTarget, selectorMatches } from '@coffer/contracts';
import { ApiException } from '../../shared/api-exception';
import { PolicyDirectory, SnapshotCatalog } from '../../shared/fleet-ports';
import { AgentSessions } from '../agents/agent-sessions';
import { AgentStore } from '../agents/agent.store';
import { Clock } from '../shared/clock';
import { FleetDatabase } from '../shared/database';
import { JobDispatcher } from './job-dispatcher.service';
import { backupJob, restoreJob, verifyJob } from './job-factory';
import { JobResultsService } from './job-results.service';
import { isTerminal } from './job-state';
import { toJobDetailView, toJobView } from './job-views';
import { isUuid, JobStore } from './job.store';
import type { JobDraft, JobRecord } from './job.types';

/** Filters of GET /jobs, validated. */
export interface JobListQuery {
  statuses?: JobStatus[];
  agent?: string;
  policy?: string;
  limit: number;
}

/** A validated restore request: into a directory (`target`) or a database (`database`). */
export interface RestoreJobRequest {
  snapshot: string;
  agent: string;
  target?: string;
  include: string[];
  database?: RestoreDatabaseTarget;
  hooks?: PolicyHooks;
}

/** A validated verify request. */
export interface VerifyJobRequest {
  snapshot: string;
  agent?: string;
  repository?: string;
}

/** Snapshot source kinds that are database backups (verify jobs, database restores). */
const DATABASE_SOURCE_KINDS = ['postgres', 'mysql', 'redis'];

const ENGINE_NAMES: Record<string, string> = { postgres: 'PostgreSQL', mysql: 'MariaDB/MySQL', redis: 'Redis' };

/** Jobs as people drive them: list, inspect, run a policy now, restore, cancel. */
@Injectable()
export class JobsService {
  private readonly logger = new Logger(JobsService.name);

  constructor(
    private readonly store: JobStore,
    private readonly db: FleetDatabase,
    private readonly agents: AgentStore,
    private readonly sessions: AgentSessions,
    private readonly policies: PolicyDirectory,
    private readonly catalog: SnapshotCatalog,
    private readonly results: JobResultsService,
    private readonly dispatcher: JobDispatcher,
    private readonly clock: Clock,
  ) {}

  async list(query: JobListQuery): Promise<JobView[]> {
    const jobs = await this.store.list({
      statuses: query.statuses,
      agentName: query.agent,
      policyName: query.policy,
      limit: query.limit,
    });
    return jobs.map((job) => toJobView(job, this.results.liveProgress(job)));
  }

  async get(id: string): Promise<JobDetailView> {
    const job = await this.require(id);
    return toJobDetailView(job, await this.store.transitions(job.id), this.results.liveProgress(job));
  }

  /**
   * Cancels a job. Queued: cancelled at once. Dispatched/running: the agent is told and the
   * job becomes cancelled when it confirms — or at once when the agent is not connected
   * (it is cancelled on the agent when it next says Hello). Finished: 409.
   */
  async cancel(id: string): Promise<JobView> {
    let job = await this.require(id);
    const now = this.clock.now();
    if (job.status === 'queued') {
      const cancelled = await this.store.transition(this.db, {
        jobId: job.id,
        to: 'cancelled',
        from: ['queued'],
        at: now,
        reason: 'cancelled by a user',
        set: { finishedAt: now, error: 'cancelled by a user before it started' },
      });
      if (cancelled) return toJobView(cancelled);
      job = await this.require(id); // dispatched in the meantime
    }
    if (isTerminal(job.status)) {
      throw new ApiException(HttpStatus.CONFLICT, 'already_finished', `job ${job.id} has already finished (${job.status})`);
    }
    const session = this.sessions.get(job.agentId);
    if (session) {
      await this.store.markCancelRequested(job.id, now);
      session.send({ type: 'cancelJob', jobId: job.id, reason: 'cancelled by a user' });
      this.logger.log(`asked agent ${job.agentName} to cancel job ${job.id}`);
      return toJobView((await this.store.findById(job.id)) ?? job, this.results.liveProgress(job));
    }
    const cancelled = await this.store.transition(this.db, {
      jobId: job.id,
      to: 'cancelled',
      from: ['dispatched', 'running'],
      at: now,
      reason: `cancelled by a user while agent ${job.agentName} was not connected`,
      set: { finishedAt: now, error: `cancelled by a user while agent ${job.agentName} was not connected` },
    });
    if (cancelled) return toJobView(cancelled);
    const current = await this.require(id);
    throw new ApiException(HttpStatus.CONFLICT, 'already_finished', `job ${current.id} has already finished (${current.status})`);
  }

  /** One backup job per agent the policy selects (or only `agentName`, which must match). */
  async runPolicy(policyName: string, agentName?: string): Promise<JobView[]> {
    const policy = await this.policies.findByName(policyName);
    if (!policy) throw new ApiException(HttpStatus.NOT_FOUND, 'not_found', `policy "${policyName}" does not exist`);
    const selector = policy.document.selector;
    const live = await this.agents.listLive();

    let targets = live.filter((agent) => selectorMatches(selector, agent.labels));
    if (agentName !== undefined) {
      const agent = live.find((candidate) => candidate.name === agentName);
      if (!agent) {
        const known = await this.agents.findByName(agentName);
        if (known?.revokedAt) throw new ApiException(HttpStatus.CONFLICT, 'revoked', `agent "${agentName}" has been revoked`);
        throw new ApiException(HttpStatus.NOT_FOUND, 'not_found', `agent "${agentName}" does not exist`);
      }
      if (!selectorMatches(selector, agent.labels)) {
        throw new ApiException(
          HttpStatus.UNPROCESSABLE_ENTITY,
          'agent_not_selected',
          `agent "${agentName}" does not match the selector of policy "${policyName}" (${JSON.stringify(selector)})`,
          { selector, labels: agent.labels },
        );
      }
      targets = [agent];
    }
    if (targets.length === 0) {
      throw new ApiException(
        HttpStatus.UNPROCESSABLE_ENTITY,
        'no_matching_agents',
        `no enrolled agent matches the selector of policy "${policyName}" (${JSON.stringify(selector)})`,
        { selector },
      );
    }
    const now = this.clock.now();
    const jobs = await this.enqueue(
      targets.map((agent) => backupJob(policy, agent.id, { trigger: 'manual', scheduledFor: now })),
      targets,
    );
    this.logger.log(`policy ${policy.name} run by hand on ${targets.length} agent(s)`);
    return jobs.map((job) => toJobView(job));
  }

  /** A restore of a catalogued snapshot on any live agent (not only the one that made it). */
  async restore(request: RestoreJobRequest): Promise<JobView> {
    const agent = await this.liveAgent(request.agent);
    const snapshot = await this.catalog.findSnapshot(request.snapshot);
    if (request.database) {
      const kind = Object.keys(request.database)[0];
      if (!DATABASE_SOURCE_KINDS.includes(snapshot.sourceKind)) {
        throw new ApiException(
          HttpStatus.UNPROCESSABLE_ENTITY,
          'not_a_database_snapshot',
          `snapshot ${snapshot.id.slice(0, 8)} is not a database backup (it holds ${snapshot.sourceKind}); restore it into a directory (target)`,
        );
      }
      if (kind !== snapshot.sourceKind) {
        throw new ApiException(
          HttpStatus.UNPROCESSABLE_ENTITY,
          'wrong_database_kind',
          `snapshot ${snapshot.id.slice(0, 8)} holds a ${ENGINE_NAMES[snapshot.sourceKind]} backup; it cannot be restored into ${ENGINE_NAMES[kind] ?? kind}`,
        );
      }
    }
    const [job] = await this.enqueue(
      [
        restoreJob({
          agentId: agent.id,
          repositoryName: snapshot.repositoryName,
          snapshotId: snapshot.id,
          targetDir: request.target ?? '',
          include: request.include,
          ...(request.database ? { database: request.database } : {}),
          ...(request.hooks ? { hooks: request.hooks } : {}),
          now: this.clock.now(),
        }),
      ],
      [agent],
    );
    const where = request.database ? describeDatabaseTarget(request.database) : request.target;
    this.logger.log(`restore of snapshot ${snapshot.id.slice(0, 8)} into ${where} on agent ${agent.name} queued (job ${job.id})`);
    return toJobView(job);
  }

  /**
   * A verification of a database snapshot, on the given agent or else on the one that took
   * it (which must be online). 422 not_a_database_snapshot for any other snapshot.
   */
  async verify(request: VerifyJobRequest): Promise<JobView> {
    const snapshot = await this.catalog.findSnapshot(request.snapshot, request.repository);
    if (!DATABASE_SOURCE_KINDS.includes(snapshot.sourceKind)) {
      throw new ApiException(
        HttpStatus.UNPROCESSABLE_ENTITY,
        'not_a_database_snapshot',
        `snapshot ${snapshot.id.slice(0, 8)} is not a database backup; use check --read-data`,
      );
    }
    let agentName = request.agent;
    if (agentName === undefined) {
      if (!snapshot.agentName) {
        throw new ApiException(HttpStatus.UNPROCESSABLE_ENTITY, 'agent_required', `the catalog does not say which agent took snapshot ${snapshot.id.slice(0, 8)}: name one (agent)`);
      }
      agentName = snapshot.agentName;
      const live = await this.agents.findLiveByName(agentName);
      // The stored status, not this process's sessions: with replicas it may be connected to another.
      if (!live || live.status !== 'online') {
        throw new ApiException(
          HttpStatus.CONFLICT,
          'agent_offline',
          `agent "${agentName}", which took snapshot ${snapshot.id.slice(0, 8)}, is not online: name another agent to verify on (agent)`,
        );
      }
    }
    const agent = await this.liveAgent(agentName);
    const [job] = await this.enqueue([verifyJob({ agentId: agent.id, repositoryName: snapshot.repositoryName, snapshotId: snapshot.id, now: this.clock.now() })], [agent]);
    this.logger.log(`verification of snapshot ${snapshot.id.slice(0, 8)} on agent ${agent.name} queued (job ${job.id})`);
    return toJobView(job);
  }

  private async liveAgent(name: string) {
    const agent = await this.agents.findLiveByName(name);
    if (!agent) {
      const known = await this.agents.findByName(name);
      if (known?.revokedAt) throw new ApiException(HttpStatus.CONFLICT, 'revoked', `agent "${name}" has been revoked`);
      throw new ApiException(HttpStatus.NOT_FOUND, 'not_found', `agent "${name}" does not exist`);
    }
    return agent;
  }

  /**
   * Stores new jobs (before anything is sent); the dispatcher sends what it can at once.
   * Returns them as stored, named after `agents`: not read back, which for a burst of a
   * thousand jobs cost more controller time than writing their RunJobs.
   */
  private enqueue(drafts: JobDraft[], agents: { id: string; name: string }[]): Promise<JobRecord[]> {
    return this.dispatcher.createJobs(drafts, new Map(agents.map((agent) => [agent.id, agent.name])));
  }

  private async require(id: string): Promise<JobRecord> {
    const job = isUuid(id) ? await this.store.findById(id) : undefined;
    if (!job) throw new ApiException(HttpStatus.NOT_FOUND, 'not_found', `job "${id}" does not exist`);
    return job;
  }
}

/** A database target for logs: its URL (never with a password) or directory. */
function describeDatabaseTarget(target: RestoreDatabaseTarget): string {
  if ('postgres' in target) return target.postgres.url;
  if ('mysql' in target) return target.mysql.url;
  return `Redis data directory ${target.redis.dir}`;
}
