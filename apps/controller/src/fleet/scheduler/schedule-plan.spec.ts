import { FakeClock } from '../shared/clock';
import { MAX_MISSED_RECORDED, planSchedule, pruneScheduleKey, scheduleKey } from './schedule-plan';

const HOURLY = { cron: '0 * * * *', timezone: 'UTC' };
const iso = (date: Date) => date.toISOString();

describe('planSchedule', () => {
  const started = new Date('2025-03-01T00:00:00Z');

  it('starts the cursor at now on first sight and fires nothing (no backfill)', () => {
    const now = new Date('2025-03-01T10:30:00Z');
    const plan = planSchedule({ schedule: HOURLY, cursor: undefined, now, processStartedAt: started, startDeadlineSeconds: 3600 });
    expect(plan).toEqual({ fires: [], missed: [], missedTruncated: false, cursor: now, changed: true });
  });

  it('is quiet between fire times', () => {
    const clock = new FakeClock(new Date('2025-03-01T10:30:00Z'));
    const plan = planSchedule({ schedule: HOURLY, cursor: clock.now(), now: new Date('2025-03-01T10:59:59Z'), processStartedAt: started, startDeadlineSeconds: 3600 });
    expect(plan.fires).toEqual([]);
    expect(plan.missed).toEqual([]);
    expect(plan.changed).toBe(false);
  });

  it('fires a due time once, on time, and moves the cursor to it', () => {
    const clock = new FakeClock(new Date('2025-03-01T10:30:00Z'));
    let cursor = clock.now();
    clock.set(new Date('2025-03-01T11:00:00.250Z'));
    const plan = planSchedule({ schedule: HOURLY, cursor, now: clock.now(), processStartedAt: started, startDeadlineSeconds: 3600 });
    expect(plan.fires.map((fire) => [iso(fire.at), fire.late])).toEqual([['2025-03-01T11:00:00.000Z', false]]);
    expect(iso(plan.cursor)).toBe('2025-03-01T11:00:00.000Z');

    cursor = plan.cursor;
    clock.advance(1000);
    const again = planSchedule({ schedule: HOURLY, cursor, now: clock.now(), processStartedAt: started, startDeadlineSeconds: 3600 });
    expect(again.fires).toEqual([]);
    expect(again.changed).toBe(false);
  });

  it('runs a time missed while the controller was down as late when still inside the start deadline', () => {
    // Controller stopped at 10:30 (cursor), started again at 11:20; deadline 1h.
    const restart = new Date('2025-03-01T11:20:00Z');
    const plan = planSchedule({
      schedule: HOURLY,
      cursor: new Date('2025-03-01T10:30:00Z'),
      now: new Date('2025-03-01T11:20:01Z'),
      processStartedAt: restart,
      startDeadlineSeconds: 3600,
    });
    expect(plan.fires.map((fire) => [iso(fire.at), fire.late])).toEqual([['2025-03-01T11:00:00.000Z', true]]);
    expect(plan.missed).toEqual([]);
  });

  it('records older fire times as missed and runs only those inside the window', () => {
    // Down from 03:30 to 10:20, deadline 2h: 04:00..08:00 missed; 09:00 and 10:00 run late.
    const restart = new Date('2025-03-01T10:20:00Z');
    const plan = planSchedule({
      schedule: HOURLY,
      cursor: new Date('2025-03-01T03:30:00Z'),
      now: new Date('2025-03-01T10:20:00Z'),
      processStartedAt: restart,
      startDeadlineSeconds: 7200,
    });
    expect(plan.missed.map(iso)).toEqual([
      '2025-03-01T04:00:00.000Z',
      '2025-03-01T05:00:00.000Z',
      '2025-03-01T06:00:00.000Z',
      '2025-03-01T07:00:00.000Z',
      '2025-03-01T08:00:00.000Z',
    ]);
    expect(plan.fires.map((fire) => [iso(fire.at), fire.late])).toEqual([
      ['2025-03-01T09:00:00.000Z', true],
      ['2025-03-01T10:00:00.000Z', true],
    ]);
    expect(iso(plan.cursor)).toBe('2025-03-01T10:00:00.000Z');
    expect(plan.missedTruncated).toBe(false);
  });

  it('treats a time exactly at the deadline as still runnable', () => {
    const plan = planSchedule({
      schedule: HOURLY,
      cursor: new Date('2025-03-01T09:30:00Z'),
      now: new Date('2025-03-01T11:00:00Z'),
      processStartedAt: new Date('2025-03-01T10:59:00Z'),
      startDeadlineSeconds: 3600,
    });
    expect(plan.missed).toEqual([]);
    expect(plan.fires.map((fire) => iso(fire.at))).toEqual(['2025-03-01T10:00:00.000Z', '2025-03-01T11:00:00.000Z']);
  });

  it('caps the missed runs it records after a long outage', () => {
    const plan = planSchedule({
      schedule: HOURLY,
      cursor: new Date('2025-02-01T00:00:00Z'),
      now: new Date('2025-03-01T10:20:00Z'),
      processStartedAt: new Date('2025-03-01T10:19:00Z'),
      startDeadlineSeconds: 600,
    });
    expect(plan.fires).toEqual([]);
    expect(plan.missed).toHaveLength(MAX_MISSED_RECORDED);
    expect(iso(plan.missed[plan.missed.length - 1])).toBe('2025-03-01T10:00:00.000Z');
    expect(plan.missedTruncated).toBe(true);
    expect(iso(plan.cursor)).toBe('2025-03-01T10:00:00.000Z');
  });

  it('fires in the schedule’s time zone', () => {
    const daily = { cron: '0 2 * * *', timezone: 'Europe/Berlin' };
    const plan = planSchedule({
      schedule: daily,
      cursor: new Date('2025-07-01T23:00:00Z'),
      now: new Date('2025-07-02T00:00:30Z'),
      processStartedAt: started,
      startDeadlineSeconds: 3600,
    });
    // 02:00 in Berlin (CEST, UTC+2) is 00:00 UTC.
    expect(plan.fires.map((fire) => iso(fire.at))).toEqual(['2025-07-02T00:00:00.000Z']);
  });

  it('keys schedules by position, cron and zone', () => {
    expect(scheduleKey(0, HOURLY)).toBe('0:0 * * * *:UTC');
    expect(scheduleKey(1, HOURLY)).not.toBe(scheduleKey(0, HOURLY));
    expect(pruneScheduleKey(HOURLY)).toBe('prune:0 * * * *:UTC');
  });
});
