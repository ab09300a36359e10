import { nextScheduleTime, PolicySchedule, previousScheduleTime } from '@coffer/contracts';

/** At most this many missed fire times are recorded per schedule (the most recent ones). */
export const MAX_MISSED_RECORDED = 10;
/** At most this many fire times inside the start window become jobs in one tick (the most recent ones). */
export const MAX_FIRES_PER_TICK = 50;

/** Identifies a schedule within its policy: position, cron and zone (a changed schedule starts afresh). */
export function scheduleKey(index: number, schedule: PolicySchedule): string {
  return `${index}:${schedule.cron}:${schedule.timezone}`;
}

/** Key of a policy's prune schedule. */
export function pruneScheduleKey(schedule: PolicySchedule): string {
  return `prune:${schedule.cron}:${schedule.timezone}`;
}

/** What the scheduler knows when it looks at one schedule. */
export interface ScheduleInput {
  schedule: PolicySchedule;
  /** Fire times up to and including this are done; undefined = never seen before. */
  cursor: Date | undefined;
  now: Date;
  /** When this controller process started: earlier fire times were missed while it was down. */
  processStartedAt: Date;
  /** A fire time older than this (relative to now) is no longer run but recorded as missed. */
  startDeadlineSeconds: number;
}

/** What to do for one schedule. */
export interface SchedulePlan {
  /** Fire times to run now, oldest first; `late` when the controller was down at that time. */
  fires: { at: Date; late: boolean }[];
  /** Fire times outside the start window (at most MAX_MISSED_RECORDED, oldest first). */
  missed: Date[];
  /** More fire times were missed than are listed. */
  missedTruncated: boolean;
  /** The new cursor (the latest fire time handled, or now on first sight). */
  cursor: Date;
  /** True when the cursor moved and must be stored. */
  changed: boolean;
}

/**
 * Decides which fire times of a schedule are due. Pure: the scheduler supplies the clock.
 *
 *  - First sight: no backfill; the cursor starts at now.
 *  - A fire time t with cursor < t ≤ now and now − t ≤ startDeadline runs now (late when t
 *    is before this process started).
 *  - Older fire times (the controller was down through their whole window) are missed.
 */
export function planSchedule(input: ScheduleInput): SchedulePlan {
  const { schedule, cursor, now } = input;
  if (!cursor) return { fires: [], missed: [], missedTruncated: false, cursor: now, changed: true };

  const windowStart = new Date(now.getTime() - input.startDeadlineSeconds * 1000);

  // Runs: fire times in (max(cursor, windowStart − 1 ms), now].
  const fires: { at: Date; late: boolean }[] = [];
  let after = cursor.getTime() >= windowStart.getTime() ? cursor : new Date(windowStart.getTime() - 1);
  for (;;) {
    const at = nextScheduleTime(schedule, after);
    if (at.getTime() > now.getTime()) break;
    fires.push({ at, late: at.getTime() < input.processStartedAt.getTime() });
    after = at;
    if (fires.length > MAX_FIRES_PER_TICK * 4) fires.splice(0, fires.length - MAX_FIRES_PER_TICK);
  }
  let skipped = 0;
  if (fires.length > MAX_FIRES_PER_TICK) {
    skipped = fires.length - MAX_FIRES_PER_TICK;
    fires.splice(0, skipped);
  }

  // Missed: fire times in (cursor, windowStart), newest first from the window backwards.
  const missed: Date[] = [];
  let missedTruncated = skipped > 0;
  if (cursor.getTime() < windowStart.getTime() - 1) {
    let before = new Date(windowStart.getTime() - 1);
    for (;;) {
      const at = previousScheduleTime(schedule, before);
      if (!at || at.getTime() <= cursor.getTime()) break;
      if (missed.length === MAX_MISSED_RECORDED) {
        missedTruncated = true;
        break;
      }
      missed.push(at);
      before = new Date(at.getTime() - 1);
    }
    missed.reverse();
  }

  const latest = fires.length > 0 ? fires[fires.length - 1].at : missed.length > 0 ? missed[missed.length - 1] : undefined;
  if (!latest || latest.getTime() <= cursor.getTime()) return { fires, missed, missedTruncated, cursor, changed: false };
  return { fires, missed, missedTruncated, cursor: latest, changed: true };
}
