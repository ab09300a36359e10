import { Injectable } from '@nestjs/common';
import { FleetDatabase, Sql } from '../shared/database';

/** A join token as stored (the secret only as its hash). */
export interface JoinTokenRecord {
  id: string;
  labels: Record<string, string>;
  usesAllowed: number;
  usesLeft: number;
  expiresAt: Date;
  createdAt: Date;
}

/** What is needed to explain why a token was refused. */
export interface JoinTokenState {
  secretHash: string;
  usesLeft: number;
  expiresAt: Date;
}

interface TokenRow {
  id: string;
  secret_hash: string;
  labels: Record<string, string>;
  uses_allowed: number;
  uses_left: number;
  expires_at: Date;
  created_at: Date;
}

/** enrollment_tokens. */
@Injectable()
export class JoinTokenStore {
  constructor(private readonly db: FleetDatabase) {}

  async insert(record: JoinTokenRecord, secretHash: string): Promise<void> {
    await this.db.rows(
      `INSERT INTO enrollment_tokens (id, secret_hash, labels, uses_allowed, uses_left, expires_at, created_at)
       VALUES ($1, $2, $3::jsonb, $4, $5, $6, $7)`,
      [record.id, secretHash, JSON.stringify(record.labels), record.usesAllowed, record.usesLeft, record.expiresAt, record.createdAt],
    );
  }

  /** Newest first. */
  async list(limit = 500): Promise<JoinTokenRecord[]> {
    const rows = await this.db.rows<TokenRow>(`SELECT * FROM enrollment_tokens ORDER BY created_at DESC LIMIT $1`, [limit]);
    return rows.map(toRecord);
  }

  /**
   * Takes one use of the token if the id and secret hash match, a use is left and it has
   * not expired — atomically, so two agents racing for the last use cannot both win.
   * Returns the token's labels, or undefined when nothing was taken.
   */
  async consume(sql: Sql, id: string, secretHash: string, now: Date): Promise<Record<string, string> | undefined> {
    const rows = await sql.rows<{ labels: Record<string, string> }>(
      `UPDATE enrollment_tokens SET uses_left = uses_left - 1
        WHERE id = $1 AND secret_hash = $2 AND uses_left > 0 AND expires_at > $3
        RETURNING labels`,
      [id, secretHash, now],
    );
    return rows[0]?.labels;
  }

  /** The token's state, to tell why `consume` took nothing. */
  async state(sql: Sql, id: string): Promise<JoinTokenState | undefined> {
    const rows = await sql.rows<TokenRow>(`SELECT secret_hash, uses_left, expires_at FROM enrollment_tokens WHERE id = $1`, [id]);
    const row = rows[0];
    return row && { secretHash: row.secret_hash, usesLeft: row.uses_left, expiresAt: new Date(row.expires_at) };
  }
}

function toRecord(row: TokenRow): JoinTokenRecord {
  return {
    id: row.id,
    labels: row.labels ?? {},
    usesAllowed: row.uses_allowed,
    usesLeft: row.uses_left,
    expiresAt: new Date(row.expires_at),
    createdAt: new Date(row.created_at),
  };
}
