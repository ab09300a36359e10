import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { PolicyDirectory } from '../../shared/fleet-ports';
import { AgentStore } from '../agents/agent.store';
import { JobStore } from '../jobs/job.store';
import { Clock } from '../shared/clock';
import { FleetDatabase } from '../shared/database';
import { FleetEvents } from '../shared/fleet-events';
import { PeriodicTask } from '../shared/periodic-task';
import { ScheduleStateStore } from './schedule-state.store';
import { draftScheduledJobs, planSchedules, TickOutput } from './scheduler-tick';

/** Key of the transaction-level advisory lock a tick holds ("coffer scheduler"). */
export const SCHEDULER_LOCK_KEY = '7193010428734521';

/**
 * Turns due schedules into jobs, every config.schedulerTickMs. One tick is one transaction
 * holding an advisory lock (a replica that cannot get it skips the tick), reading the
 * cursors, inserting the jobs and moving the cursors together; the unique index on
 * (policy, schedule, time, agent) makes a double run impossible even so.
 */
@Injectable()
export class SchedulerService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(SchedulerService.name);
  private readonly task: PeriodicTask;
  private readonly processStartedAt: Date;

  constructor(
    private readonly policies: PolicyDirectory,
    private readonly agents: AgentStore,
    private readonly jobs: JobStore,
    private readonly cursors: ScheduleStateStore,
    private readonly db: FleetDatabase,
    private readonly events: FleetEvents,
    private readonly config: AppConfig,
    private readonly clock: Clock,
  ) {
    this.processStartedAt = clock.now();
    this.task = new PeriodicTask('scheduler', Math.max(100, config.schedulerTickMs), async () => {
      await this.tick();
    }, this.logger);
  }

  onApplicationBootstrap(): void {
    this.task.start();
    this.task.trigger();
  }

  async onModuleDestroy(): Promise<void> {
    await this.task.stop();
  }

  /** One scheduling round; returns what it decided (undefined when another replica holds the lock). */
  async tick(): Promise<TickOutput | undefined> {
    const policies = await this.policies.listEnabled();
    if (policies.length === 0) return undefined;
    const now = this.clock.now();
    const plan = (cursors: ReadonlyMap<string, Date>) =>
      planSchedules({
        policies,
        cursors,
        now,
        processStartedAt: this.processStartedAt,
        changeGraceMs: Math.max(2 * this.config.schedulerTickMs, 5_000),
      });
    // A look without locks first: on most ticks nothing is due and no transaction is needed.
    const ids = policies.map((policy) => policy.id);
    const glance = plan(await this.cursors.load(this.db, ids, false));
    if (glance.due.length === 0 && glance.cursors.length === 0) return { drafts: [], cursors: [], notes: [] };

    const decided = await this.db.transaction(async (sql) => {
      const [lock] = await sql.rows<{ locked: boolean }>(`SELECT pg_try_advisory_xact_lock($1::bigint) AS locked`, [SCHEDULER_LOCK_KEY]);
      if (!lock?.locked) return undefined;
      // Decide again on the locked cursors: another replica may have moved them meanwhile.
      const decisions = plan(await this.cursors.load(sql, ids, true));
      // Agents are read only when something is due.
      const agents = decisions.due.length > 0 ? await this.agents.listLive(sql) : [];
      const output: TickOutput = { cursors: decisions.cursors, ...draftScheduledJobs(decisions.due, agents) };
      const inserted = await this.jobs.insert(sql, output.drafts, now);
      await this.cursors.save(sql, output.cursors, now);
      return { output, inserted };
    });
    if (!decided) return undefined;
    for (const note of decided.output.notes) this.logger[note.level](note.message);
    if (decided.inserted.length > 0) await this.events.emit('job.queued', { count: decided.inserted.length });
    return decided.output;
  }
}
