import type { DatabaseBackupPlan, DatabaseConnection, DatabaseRestoreReport, SnapshotFileOpener, SourceManifest, ToolContext } from '../database/database-source';

/** What to dump from a MariaDB/MySQL server: one database or several. */
export interface MysqlBackupSpec {
  connection: DatabaseConnection;
  /** At least one. */
  databases: string[];
}

/** Where and how to restore a MariaDB/MySQL snapshot. */
export interface MysqlRestoreOptions extends ToolContext {
  /** target.database is required: the database to restore into. */
  target: DatabaseConnection;
  /** Restore over a target that exists and is not empty. */
  clean: boolean;
  /** Which database of the snapshot, when it holds several. */
  sourceDatabase?: string;
}

export async function planMysqlBackup(spec: MysqlBackupSpec, context: ToolContext): Promise<DatabaseBackupPlan> {
  throw new Error('not implemented');
}

export async function restoreMysql(manifest: SourceManifest, open: SnapshotFileOpener, options: MysqlRestoreOptions): Promise<DatabaseRestoreReport> {
  throw new Error('not implemented');
}

/** Checks a MariaDB/MySQL snapshot without restoring it: each dump is complete. Returns one line per file. */
export async function verifyMysqlSnapshot(manifest: SourceManifest, open: SnapshotFileOpener, context: ToolContext): Promise<string[]> {
  throw new Error('not implemented');
}
