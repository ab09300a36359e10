import { Injectable } from '@nestjs/common';
import { DataSource, QueryRunner } from 'typeorm';

/** Runs SQL and returns the rows (for INSERT/UPDATE/DELETE: the RETURNING rows). */
export interface Sql {
  rows<T>(text: string, params?: unknown[]): Promise<T[]>;
}

/**
 * The fleet side's access to PostgreSQL: plain SQL through TypeORM's connection pool. The
 * fleet tables are driven by statements TypeORM's repositories cannot express
 * (`FOR UPDATE SKIP LOCKED`, `UPDATE … FROM unnest(…)`, conditional `RETURNING`), so the
 * stores in each folder hold their SQL and map rows to domain types themselves.
 */
@Injectable()
export class FleetDatabase implements Sql {
  constructor(private readonly dataSource: DataSource) {}

  async rows<T>(text: string, params: unknown[] = []): Promise<T[]> {
    const runner = this.dataSource.createQueryRunner();
    try {
      return await runRows<T>(runner, text, params);
    } finally {
      await runner.release();
    }
  }

  /** Runs `work` in one transaction (READ COMMITTED); rolls back when it throws. */
  async transaction<T>(work: (sql: Sql) => Promise<T>): Promise<T> {
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    await runner.startTransaction();
    try {
      const result = await work({ rows: (text, params = []) => runRows(runner, text, params) });
      await runner.commitTransaction();
      return result;
    } catch (error) {
      if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
      throw error;
    } finally {
      await runner.release();
    }
  }
}

async function runRows<T>(runner: QueryRunner, text: string, params: unknown[]): Promise<T[]> {
  const result = await runner.query(text, params, true);
  return (result.records ?? []) as T[];
}

/** The PostgreSQL error code of a failed query, if any (e.g. "23505" unique violation). */
export function pgErrorCode(error: unknown): string | undefined {
  const candidate = error as { code?: unknown; driverError?: { code?: unknown } };
  const code = candidate?.driverError?.code ?? candidate?.code;
  return typeof code === 'string' ? code : undefined;
}

/** The constraint a failed query violated, if any. */
export function pgConstraint(error: unknown): string | undefined {
  const candidate = error as { constraint?: unknown; driverError?: { constraint?: unknown } };
  const constraint = candidate?.driverError?.constraint ?? candidate?.constraint;
  return typeof constraint === 'string' ? constraint : undefined;
}
