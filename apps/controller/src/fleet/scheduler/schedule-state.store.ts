import { Injectable } from '@nestjs/common';
import type { Sql } from '../shared/database';

/** One schedule's cursor. */
export interface ScheduleCursor {
  policyId: string;
  scheduleKey: string;
  lastFiredAt: Date;
}

/** schedule_state: the last fire time handled per (policy, schedule). */
@Injectable()
export class ScheduleStateStore {
  /** The cursors of these policies; with `lock`, row-locked until the transaction ends. */
  async load(sql: Sql, policyIds: string[], lock: boolean): Promise<Map<string, Date>> {
    if (policyIds.length === 0) return new Map();
    const rows = await sql.rows<{ policy_id: string; schedule_key: string; last_fired_at: Date }>(
      `SELECT policy_id, schedule_key, last_fired_at FROM schedule_state WHERE policy_id = ANY($1::uuid[])${lock ? ' FOR UPDATE' : ''}`,
      [policyIds],
    );
    return new Map(rows.map((row) => [cursorKey(row.policy_id, row.schedule_key), new Date(row.last_fired_at)]));
  }

  /** Writes cursors (never moving one backwards). */
  async save(sql: Sql, cursors: ScheduleCursor[], now: Date): Promise<void> {
    if (cursors.length === 0) return;
    await sql.rows(
      `INSERT INTO schedule_state (policy_id, schedule_key, last_fired_at, updated_at)
       SELECT v.policy_id, v.schedule_key, v.last_fired_at, $4::timestamptz
         FROM unnest($1::uuid[], $2::text[], $3::timestamptz[]) AS v(policy_id, schedule_key, last_fired_at)
       ON CONFLICT (policy_id, schedule_key)
       DO UPDATE SET last_fired_at = GREATEST(schedule_state.last_fired_at, EXCLUDED.last_fired_at), updated_at = EXCLUDED.updated_at`,
      [cursors.map((c) => c.policyId), cursors.map((c) => c.scheduleKey), cursors.map((c) => c.lastFiredAt.toISOString()), now],
    );
  }
}

export function cursorKey(policyId: string, scheduleKey: string): string {
  return `${policyId}|${scheduleKey}`;
}
