import { Readable } from 'node:stream';
import { planMysqlBackup, restoreMysql, verifyMysqlSnapshot } from '../mysql/mysql-source';
import { planPostgresBackup, restorePostgres, verifyPostgresSnapshot } from '../postgres/postgres-source';
import { planRedisBackup, restoreRedisRdb, verifyRedisSnapshot } from '../redis/redis-source';
import { parseDatabaseUrl } from './connection-url';
import { DatabaseBackupPlan, DatabaseKind, DatabaseRestoreReport, SnapshotFileOpener, SOURCE_MANIFEST_FILE, SourceError, SourceManifest, ToolContext } from './database-source';

/*
 * One entry point per operation over every engine, for the CLI and the agent, which get
 * sources as URLs (from flags or a policy) and a password from a file or the secret store.
 */

/**
 * The tools each engine runs (alternatives included: mariadb-dump or mysqldump), for the
 * agent's health report: a policy's job fails in preflight when one it needs is missing.
 */
export const DATABASE_TOOLS: Record<DatabaseKind, readonly string[]> = {
  postgres: ['pg_dump', 'pg_restore', 'psql', 'pg_dumpall'],
  mysql: ['mariadb-dump', 'mysqldump', 'mariadb', 'mysql'],
  redis: ['redis-cli', 'redis-server', 'redis-check-rdb'],
};

/** A database source as the CLI and policies give it. */
export type DatabaseSource =
  | { kind: 'postgres'; url: string; password?: string; databases?: string[]; schemas?: string[]; globals?: boolean; globalsOnly?: boolean }
  | { kind: 'mysql'; url: string; password?: string; databases?: string[] }
  | { kind: 'redis'; url: string; password?: string };

/** A database restore target as the CLI and restore jobs give it. */
export type DatabaseTarget =
  | { kind: 'postgres'; url: string; password?: string; clean: boolean; sourceDatabase?: string; schemas?: string[]; jobs?: number; noOwner?: boolean; globals?: boolean }
  | { kind: 'mysql'; url: string; password?: string; clean: boolean; sourceDatabase?: string }
  | { kind: 'redis'; dir: string; clean: boolean };

/**
 * Preflight, then the plan to stream: the manifest (coffer-source.json) and the engine's
 * dumps, in that order, all to go into ONE snapshot. For PostgreSQL: the URL's database, or `databases`,
 * or every database when neither names one; globalsOnly: roles and tablespaces alone.
 */
export async function planDatabaseBackup(source: DatabaseSource, context: ToolContext): Promise<DatabaseBackupPlan> {
  const plan = await planEngineBackup(source, context);
  // The manifest goes first: a restore reads it before anything else.
  const manifest = Buffer.from(`${JSON.stringify(plan.manifest, null, 2)}\n`);
  return { ...plan, files: [{ name: SOURCE_MANIFEST_FILE, open: () => Readable.from([manifest]) }, ...plan.files] };
}

async function planEngineBackup(source: DatabaseSource, context: ToolContext): Promise<DatabaseBackupPlan> {
  const connection = { ...parseDatabaseUrl(source.kind, source.url), ...(source.password !== undefined ? { password: source.password } : {}) };
  switch (source.kind) {
    case 'postgres': {
      const named = [...(connection.database ? [connection.database] : []), ...(source.databases ?? [])];
      const databases = source.globalsOnly ? [] : named.length > 0 ? [...new Set(named)] : 'all';
      return planPostgresBackup({ connection, databases, schemas: source.schemas ?? [], globals: !!source.globals || !!source.globalsOnly }, context);
    }
    case 'mysql': {
      const databases = [...new Set([...(connection.database ? [connection.database] : []), ...(source.databases ?? [])])];
      if (databases.length === 0) throw new SourceError(`${source.url} names no database: give mysql://USER@HOST:PORT/DATABASE`);
      return planMysqlBackup({ connection, databases }, context);
    }
    case 'redis':
      return planRedisBackup({ connection }, context);
  }
}

/** Reads and checks the manifest at the root of a database snapshot. */
export async function readSourceManifest(open: SnapshotFileOpener): Promise<SourceManifest> {
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of open(SOURCE_MANIFEST_FILE) as AsyncIterable<Buffer>) chunks.push(chunk);
  } catch (err) {
    throw new SourceError(`this snapshot holds no database backup (no ${SOURCE_MANIFEST_FILE}: ${(err as Error).message})`);
  }
  let manifest: SourceManifest;
  try {
    manifest = JSON.parse(Buffer.concat(chunks).toString('utf8')) as SourceManifest;
  } catch {
    throw new SourceError(`${SOURCE_MANIFEST_FILE} in this snapshot is not valid JSON`);
  }
  if (manifest.version !== 1 || !['postgres', 'mysql', 'redis'].includes(manifest.kind) || !Array.isArray(manifest.items)) {
    throw new SourceError(`${SOURCE_MANIFEST_FILE} in this snapshot is of an unknown version or kind`);
  }
  return manifest;
}

/** Restores a database snapshot into `target`; refuses a target of another kind than the snapshot. */
export async function restoreDatabase(open: SnapshotFileOpener, target: DatabaseTarget, context: ToolContext): Promise<DatabaseRestoreReport> {
  const manifest = await readSourceManifest(open);
  if (manifest.kind !== target.kind) {
    throw new SourceError(`this snapshot holds a ${engineName(manifest.kind)} backup; it cannot be restored into ${engineName(target.kind)}`);
  }
  switch (target.kind) {
    case 'postgres': {
      const connection = { ...parseDatabaseUrl('postgres', target.url), ...(target.password !== undefined ? { password: target.password } : {}) };
      const { clean, sourceDatabase, schemas, jobs, noOwner, globals } = target;
      return restorePostgres(manifest, open, { ...context, target: connection, clean, sourceDatabase, schemas, jobs, noOwner, globals });
    }
    case 'mysql': {
      const connection = { ...parseDatabaseUrl('mysql', target.url), ...(target.password !== undefined ? { password: target.password } : {}) };
      if (!connection.database) throw new SourceError(`${target.url} names no target database: give mysql://USER@HOST:PORT/TARGETDB`);
      return restoreMysql(manifest, open, { ...context, target: connection, clean: target.clean, sourceDatabase: target.sourceDatabase });
    }
    case 'redis':
      return restoreRedisRdb(manifest, open, { ...context, dir: target.dir, clean: target.clean });
  }
}

/** Checks a database snapshot without restoring it; one line per dump file. */
export async function verifyDatabaseSnapshot(open: SnapshotFileOpener, context: ToolContext): Promise<{ manifest: SourceManifest; lines: string[] }> {
  const manifest = await readSourceManifest(open);
  const verify = { postgres: verifyPostgresSnapshot, mysql: verifyMysqlSnapshot, redis: verifyRedisSnapshot }[manifest.kind];
  return { manifest, lines: await verify(manifest, open, context) };
}

/** "PostgreSQL", "MariaDB/MySQL", "Redis". */
export function engineName(kind: DatabaseKind): string {
  return kind === 'postgres' ? 'PostgreSQL' : kind === 'mysql' ? 'MariaDB/MySQL' : 'Redis';
}
