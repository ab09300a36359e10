import { parseDurationSeconds, PolicySchedule, selectorMatches } from '@coffer/contracts';
import type { StoredPolicy } from '../../shared/fleet-ports';
import type { AgentSummary } from '../agents/agent.types';
import { backupJob, DEFAULT_START_DEADLINE_SECONDS, pruneJob } from '../jobs/job-factory';
import type { JobDraft } from '../jobs/job.types';
import { cursorKey, ScheduleCursor } from './schedule-state.store';
import { planSchedule, pruneScheduleKey, scheduleKey, SchedulePlan } from './schedule-plan';

/** Everything one scheduler tick looks at. */
export interface ScheduleTickInput {
  policies: StoredPolicy[];
  /** Stored cursors by cursorKey(policyId, scheduleKey). */
  cursors: ReadonlyMap<string, Date>;
  now: Date;
  processStartedAt: Date;
  /** A policy changed less than this before a fire time may still fire for it. */
  changeGraceMs: number;
}

/** One schedule's decision. */
export interface DueSchedule {
  policy: StoredPolicy;
  kind: 'backup' | 'prune';
  key: string;
  schedule: PolicySchedule;
  plan: SchedulePlan;
}

/** What the first phase decided: schedules with something to do, and cursors to store. */
export interface ScheduleDecisions {
  due: DueSchedule[];
  cursors: ScheduleCursor[];
}

/** What one tick decided in the end. */
export interface TickOutput {
  drafts: JobDraft[];
  cursors: ScheduleCursor[];
  /** One line per notable event, for the log. */
  notes: { level: 'log' | 'warn'; message: string }[];
}

/**
 * Phase 1: which schedules are due (pure, no agents needed — most ticks end here).
 *
 * A policy's cursor never starts before its last change (minus a little grace): a policy
 * that was disabled and is enabled again does not replay the runs of its disabled time.
 */
export function planSchedules(input: ScheduleTickInput): ScheduleDecisions {
  const decisions: ScheduleDecisions = { due: [], cursors: [] };
  for (const policy of input.policies) {
    const document = policy.document;
    const startDeadlineSeconds = parseDurationSeconds(document.startDeadline) ?? DEFAULT_START_DEADLINE_SECONDS;
    const consider = (kind: DueSchedule['kind'], key: string, schedule: PolicySchedule) => {
      const stored = input.cursors.get(cursorKey(policy.id, key));
      const floor = policy.updatedAt.getTime() - input.changeGraceMs;
      const cursor = stored && stored.getTime() < floor ? new Date(floor) : stored;
      const plan = planSchedule({ schedule, cursor, now: input.now, processStartedAt: input.processStartedAt, startDeadlineSeconds });
      if (plan.changed) decisions.cursors.push({ policyId: policy.id, scheduleKey: key, lastFiredAt: plan.cursor });
      if (plan.fires.length + plan.missed.length > 0) decisions.due.push({ policy, kind, key, schedule, plan });
    };
    document.schedules.forEach((schedule, index) => consider('backup', scheduleKey(index, schedule), schedule));
    if (document.prune) consider('prune', pruneScheduleKey(document.prune), document.prune);
  }
  return decisions;
}

/**
 * Phase 2: turns due schedules into jobs. For every fire time to run, one backup job per
 * matching agent (scheduled_for = the fire time); for every missed fire time, one `missed`
 * job per matching agent; for a due prune schedule, one prune job on one online matching
 * agent (missed prunes are skipped: the next one does the same work).
 */
export function draftScheduledJobs(due: DueSchedule[], agents: AgentSummary[]): Pick<TickOutput, 'drafts' | 'notes'> {
  const output: Pick<TickOutput, 'drafts' | 'notes'> = { drafts: [], notes: [] };
  for (const { policy, kind, key, schedule, plan } of due) {
    const document = policy.document;
    const matching = agents.filter((agent) => selectorMatches(document.selector, agent.labels));
    if (matching.length === 0) {
      output.notes.push({ level: 'warn', message: `policy ${policy.name}: ${kind} is due (${schedule.cron} ${schedule.timezone}) but no agent matches its selector` });
      continue;
    }
    if (kind === 'prune') {
      if (plan.fires.length === 0) continue;
      // One agent prunes the repository: an online one if any (it can start now).
      const agent = matching.find((candidate) => candidate.status === 'online') ?? matching[0];
      const fire = plan.fires[plan.fires.length - 1];
      output.drafts.push(pruneJob(policy, agent.id, { trigger: 'prune', scheduledFor: fire.at, scheduleKey: key, late: fire.late }));
      output.notes.push({ level: 'log', message: `policy ${policy.name}: prune of repository ${document.repository} on agent ${agent.name}` });
      continue;
    }
    for (const fire of plan.fires) {
      for (const agent of matching) {
        output.drafts.push(backupJob(policy, agent.id, { trigger: 'schedule', scheduledFor: fire.at, scheduleKey: key, late: fire.late }));
      }
      output.notes.push({
        level: 'log',
        message: `policy ${policy.name}: ${fire.late ? 'late ' : ''}run for ${fire.at.toISOString()} on ${matching.length} agent(s)`,
      });
    }
    for (const at of plan.missed) {
      const reason = `missed: the controller was not running between ${at.toISOString()} and the end of its ${document.startDeadline} start deadline`;
      for (const agent of matching) {
        output.drafts.push(backupJob(policy, agent.id, { trigger: 'schedule', scheduledFor: at, scheduleKey: key, status: 'missed', reason }));
      }
    }
    if (plan.missed.length > 0) {
      const more = plan.missedTruncated ? ' (and earlier ones, not recorded)' : '';
      output.notes.push({ level: 'warn', message: `policy ${policy.name}: ${plan.missed.length} scheduled run(s) missed while the controller was down${more}` });
    }
  }
  return output;
}

/** Both phases at once (tests, and anything that has the agents at hand). */
export function planTick(input: ScheduleTickInput & { agents: AgentSummary[] }): TickOutput {
  const decisions = planSchedules(input);
  return { cursors: decisions.cursors, ...draftScheduledJobs(decisions.due, input.agents) };
}
