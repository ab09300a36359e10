import type { DatabaseBackupPlan, DatabaseConnection, DatabaseRestoreReport, SnapshotFileOpener, SourceManifest, ToolContext } from '../database/database-source';

/** The Redis server to snapshot (the whole server: every logical database). */
export interface RedisBackupSpec {
  connection: DatabaseConnection;
}

/** Where to put a restored RDB. */
export interface RedisRestoreOptions extends ToolContext {
  /** Directory that receives dump.rdb (created if missing). */
  dir: string;
  /** Replace a dump.rdb that is already there. */
  clean: boolean;
}

export async function planRedisBackup(spec: RedisBackupSpec, context: ToolContext): Promise<DatabaseBackupPlan> {
  throw new Error('not implemented');
}

export async function restoreRedisRdb(manifest: SourceManifest, open: SnapshotFileOpener, options: RedisRestoreOptions): Promise<DatabaseRestoreReport> {
  throw new Error('not implemented');
}

/** Checks a Redis snapshot without restoring it (redis-check-rdb). Returns one line per file. */
export async function verifyRedisSnapshot(manifest: SourceManifest, open: SnapshotFileOpener, context: ToolContext): Promise<string[]> {
  throw new Error('not implemented');
}

/** A redis-server started on a restored RDB. */
export interface StartedRedisServer {
  pid: number;
  port: number;
  /** Shuts the server down (SIGTERM, then SIGKILL) and waits for it to exit. */
  stop(): Promise<void>;
}

/**
 * Starts redis-server on `dir`/dump.rdb at `port` (persistence off: a restored copy for
 * drills and checks), and resolves once it answers PING with the data loaded.
 * detach: the server outlives this process (the CLI's --redis-port); its pid is in dir/redis.pid.
 */
export async function startRedisServer(options: { dir: string; port: number; host?: string; detach?: boolean }): Promise<StartedRedisServer> {
  throw new Error('not implemented');
}
