import { QueryFailedError } from 'typeorm';

/** PostgreSQL error codes the services act on. */
export const PG_UNIQUE_VIOLATION = '23505';
export const PG_FOREIGN_KEY_VIOLATION = '23503';

/** True when `err` is a failed query with this SQLSTATE. */
export function isPostgresError(err: unknown, code: string): boolean {
  return err instanceof QueryFailedError && (err.driverError as { code?: string } | undefined)?.code === code;
}
