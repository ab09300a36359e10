import { Injectable } from '@nestjs/common';
import { FleetDatabase, Sql } from '../shared/database';
import type { AgentHealth, AgentRecord, AgentSummary, NewAgent } from './agent.types';

interface AgentRow {
  id: string;
  name: string;
  labels: Record<string, string>;
  cert_fingerprint: string;
  cert_not_after: Date;
  hostname: string | null;
  version: string | null;
  health: AgentHealth | null;
  last_seen_at: Date | null;
  status: AgentRecord['status'];
  enrolled_at: Date;
  revoked_at: Date | null;
}

/** One agent's batched presence for `flushPresence`. */
export interface PresenceRow {
  id: string;
  lastSeenAt: Date;
  /** Only when it should be written this time (health is written less often than last-seen). */
  health: AgentHealth | null;
  version: string | null;
  hostname: string | null;
}

/** The agents table. */
@Injectable()
export class AgentStore {
  constructor(private readonly db: FleetDatabase) {}

  async insert(sql: Sql, agent: NewAgent): Promise<AgentRecord> {
    const rows = await sql.rows<AgentRow>(
      `INSERT INTO agents (id, name, labels, cert_fingerprint, cert_not_after, hostname, version, status, enrolled_at, enrollment_token_id)
       VALUES ($1, $2, $3::jsonb, $4, $5, $6, $7, 'offline', $8, $9)
       RETURNING *`,
      [
        agent.id,
        agent.name,
        JSON.stringify(agent.labels),
        agent.certFingerprint,
        agent.certNotAfter,
        agent.hostname,
        agent.version,
        agent.enrolledAt,
        agent.enrollmentTokenId,
      ],
    );
    return toRecord(rows[0]);
  }

  /** The agent holding `name` that is not revoked. */
  async findLiveByName(name: string, sql: Sql = this.db): Promise<AgentRecord | undefined> {
    const rows = await sql.rows<AgentRow>(`SELECT * FROM agents WHERE name = $1 AND revoked_at IS NULL`, [name]);
    return rows[0] && toRecord(rows[0]);
  }

  /** The live agent named `name`, else the most recently enrolled revoked one. */
  async findByName(name: string): Promise<AgentRecord | undefined> {
    const rows = await this.db.rows<AgentRow>(
      `SELECT * FROM agents WHERE name = $1 ORDER BY (revoked_at IS NULL) DESC, enrolled_at DESC LIMIT 1`,
      [name],
    );
    return rows[0] && toRecord(rows[0]);
  }

  async findByFingerprint(fingerprintHex: string): Promise<AgentRecord | undefined> {
    const rows = await this.db.rows<AgentRow>(`SELECT * FROM agents WHERE cert_fingerprint = $1`, [fingerprintHex]);
    return rows[0] && toRecord(rows[0]);
  }

  async findById(id: string): Promise<AgentRecord | undefined> {
    const rows = await this.db.rows<AgentRow>(`SELECT * FROM agents WHERE id = $1`, [id]);
    return rows[0] && toRecord(rows[0]);
  }

  /** Every agent, live ones first, by name. */
  async list(): Promise<AgentRecord[]> {
    const rows = await this.db.rows<AgentRow>(`SELECT * FROM agents ORDER BY (revoked_at IS NULL) DESC, name, enrolled_at DESC`);
    return rows.map(toRecord);
  }

  /** Agents that may be given jobs (not revoked), by name; without health, so thousands are cheap. */
  async listLive(sql: Sql = this.db): Promise<AgentSummary[]> {
    const rows = await sql.rows<Pick<AgentRow, 'id' | 'name' | 'labels' | 'status'>>(
      `SELECT id, name, labels, status FROM agents WHERE revoked_at IS NULL ORDER BY name`,
    );
    return rows.map((row) => ({ id: row.id, name: row.name, labels: row.labels ?? {}, status: row.status }));
  }

  /** Marks the agent revoked; undefined when it was revoked already (or does not exist). */
  async revoke(id: string, at: Date): Promise<AgentRecord | undefined> {
    const rows = await this.db.rows<AgentRow>(
      `UPDATE agents SET revoked_at = $2, status = 'revoked' WHERE id = $1 AND revoked_at IS NULL RETURNING *`,
      [id, at],
    );
    return rows[0] && toRecord(rows[0]);
  }

  /**
   * Writes the presence of many agents in one statement and marks them online. Revoked
   * agents are left alone. Returns nothing: callers keep their own view of who is online.
   */
  async flushPresence(batch: PresenceRow[]): Promise<void> {
    if (batch.length === 0) return;
    // One JSON document rather than parallel arrays: pg escapes array elements character
    // by character, which for health documents costs more than the statement itself.
    const rows = batch.map((row) => ({ id: row.id, seen: row.lastSeenAt.toISOString(), health: row.health, version: row.version, hostname: row.hostname }));
    await this.db.rows(
      `UPDATE agents AS a
          SET last_seen_at = GREATEST(a.last_seen_at, v.seen),
              status = 'online',
              health = COALESCE(v.health, a.health),
              version = COALESCE(v.version, a.version),
              hostname = COALESCE(v.hostname, a.hostname)
         FROM jsonb_to_recordset($1::jsonb) AS v(id uuid, seen timestamptz, health jsonb, version text, hostname text)
        WHERE a.id = v.id AND a.revoked_at IS NULL`,
      [JSON.stringify(rows)],
    );
  }

  /**
   * Marks online agents not seen since `cutoff` offline and returns them. Works from the
   * database alone, so agents of a controller replica that died go offline too.
   */
  async markSilentOffline(cutoff: Date): Promise<{ id: string; name: string; lastSeenAt: Date | null }[]> {
    const rows = await this.db.rows<{ id: string; name: string; last_seen_at: Date | null }>(
      `UPDATE agents SET status = 'offline'
        WHERE status = 'online' AND revoked_at IS NULL AND (last_seen_at IS NULL OR last_seen_at < $1)
        RETURNING id, name, last_seen_at`,
      [cutoff],
    );
    return rows.map((row) => ({ id: row.id, name: row.name, lastSeenAt: row.last_seen_at && new Date(row.last_seen_at) }));
  }

  /** Jobs dispatched to or running on each agent. */
  async activeJobCounts(agentIds?: string[]): Promise<Map<string, number>> {
    const rows = await this.db.rows<{ agent_id: string; count: number }>(
      `SELECT agent_id, count(*)::int AS count FROM jobs
        WHERE status IN ('dispatched', 'running') AND ($1::uuid[] IS NULL OR agent_id = ANY($1::uuid[]))
        GROUP BY agent_id`,
      [agentIds ?? null],
    );
    return new Map(rows.map((row) => [row.agent_id, row.count]));
  }
}

function toRecord(row: AgentRow): AgentRecord {
  return {
    id: row.id,
    name: row.name,
    labels: row.labels ?? {},
    certFingerprint: row.cert_fingerprint,
    certNotAfter: new Date(row.cert_not_after),
    hostname: row.hostname,
    version: row.version,
    health: row.health,
    lastSeenAt: row.last_seen_at && new Date(row.last_seen_at),
    status: row.revoked_at ? 'revoked' : row.status,
    enrolledAt: new Date(row.enrolled_at),
    revokedAt: row.revoked_at && new Date(row.revoked_at),
  };
}
