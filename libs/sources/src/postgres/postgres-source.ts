import type { DatabaseBackupPlan, DatabaseConnection, DatabaseRestoreReport, SnapshotFileOpener, SourceManifest, ToolContext } from '../database/database-source';

/** What to dump from a PostgreSQL server. */
export interface PostgresBackupSpec {
  connection: DatabaseConnection;
  /** Databases to dump; "all" = every database that accepts connections (templates excepted); [] with globals = globals only. */
  databases: string[] | 'all';
  /** Only these schemas of each database (pg_dump -n); [] = all. */
  schemas: string[];
  /** Also roles and tablespaces (pg_dumpall --globals-only). */
  globals: boolean;
}

/** Where and how to restore a PostgreSQL snapshot. */
export interface PostgresRestoreOptions extends ToolContext {
  /** target.database: the database to restore into (created if missing). */
  target: DatabaseConnection;
  /** Restore over a target that exists and is not empty (pg_restore --clean --if-exists). */
  clean: boolean;
  /** Which database of the snapshot, when it holds several. */
  sourceDatabase?: string;
  /** Only these schemas (pg_restore -n). */
  schemas?: string[];
  /** pg_restore -j; 1 streams the dump straight from the repository without a staging file. */
  jobs?: number;
  /** Do not restore ownership (target server lacks the roles). */
  noOwner?: boolean;
  /** Also run the snapshot's globals (roles, tablespaces) against the target server. */
  globals?: boolean;
}

export async function planPostgresBackup(spec: PostgresBackupSpec, context: ToolContext): Promise<DatabaseBackupPlan> {
  throw new Error('not implemented');
}

export async function restorePostgres(manifest: SourceManifest, open: SnapshotFileOpener, options: PostgresRestoreOptions): Promise<DatabaseRestoreReport> {
  throw new Error('not implemented');
}

/** Streams each dump of the snapshot through `pg_restore --list`. Returns one line per file ("app.pgdump: 42 entries"). */
export async function verifyPostgresSnapshot(manifest: SourceManifest, open: SnapshotFileOpener, context: ToolContext): Promise<string[]> {
  throw new Error('not implemented');
}
