import { BackupResult, backupStreams, Repository, Snapshot, snapshotFileOpener } from '@coffer/repository';
import {
  DatabaseSource,
  DatabaseTarget,
  engineName,
  planDatabaseBackup,
  readPasswordFile,
  SOURCE_MANIFEST_FILE,
  restoreDatabase,
  SourceError,
  ToolContext,
  verifyDatabaseSnapshot,
} from '@coffer/sources';
import type { JobContext } from './job-context';
import type { DatabaseBackupSource, DatabasePassword, DatabaseRestoreTarget } from './job-types';

/*
 * Database sources and targets on the agent: the engines of libs/sources do the work; this
 * file turns job specs into their inputs, wires their tool output into the job log and their
 * processes into the job's process groups, and finds the password (job secret or file).
 */

/** The tool context of a job: stderr and notes to the job log, tool processes killed with the job. */
export function toolContext(ctx: JobContext): ToolContext {
  return { signal: ctx.signal, log: (line) => ctx.log(line), onProcessGroup: (pgid) => ctx.adoptProcessGroup(pgid) };
}

/** The password of a database source: the secret the job carries, or a file on this host. Never logged. */
export function databasePassword(source: DatabasePassword): string | undefined {
  if (source.password !== '') return source.password;
  return source.passwordFile === '' ? undefined : readPasswordFile(source.passwordFile, 'passwordFile');
}

/** A URL as logs may show it: any password taken out (policies refuse them; belt and braces). */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (!parsed.password) return url;
    parsed.password = '';
    return parsed.toString();
  } catch {
    return url.replace(/\/\/([^/@:]*):[^/@]*@/, '//$1:***@');
  }
}

/** Names a database source in the job log, without any password. */
export function describeDatabaseSource(source: DatabaseBackupSource): string {
  return `${engineName(source.kind)} ${redactUrl(source.url)}`;
}

/**
 * Backs up one database source as one snapshot: the engine's preflight first (a SourceError
 * with a message for people, before anything is written), then the manifest and every dump
 * streamed into one snapshot, which exists only if every dump tool exited 0.
 */
export async function backupDatabaseSource(repo: Repository, source: DatabaseBackupSource, tags: string[], ctx: JobContext): Promise<BackupResult> {
  const password = databasePassword(source);
  const withPassword = password !== undefined ? { password } : {};
  const spec: DatabaseSource =
    source.kind === 'postgres'
      ? { kind: 'postgres', url: source.url, databases: source.databases, schemas: source.schemas, globals: source.globals, globalsOnly: source.globalsOnly, ...withPassword }
      : source.kind === 'mysql'
        ? { kind: 'mysql', url: source.url, databases: source.databases, ...withPassword }
        : { kind: 'redis', url: source.url, ...withPassword };
  ctx.progress({ phase: `checking ${engineName(source.kind)}` });
  const plan = await planDatabaseBackup(spec, toolContext(ctx));
  try {
    const dumps = plan.files.filter((f) => f.name !== SOURCE_MANIFEST_FILE).map((f) => f.name);
    ctx.log(`${engineName(plan.kind)} ${plan.manifest.serverVersion} at ${plan.manifest.server}: dumping ${dumps.join(', ')} with ${plan.manifest.tool.name} ${plan.manifest.tool.version}`);
    return await backupStreams(
      repo,
      plan.files,
      { sourceKind: plan.kind, paths: plan.paths },
      {
        host: ctx.agentName,
        tags,
        onProgress: (p) => ctx.progress({ phase: `dumping ${engineName(plan.kind)}`, filesDone: p.files, filesTotal: plan.files.length, bytesDone: p.bytesDone }),
      },
    );
  } finally {
    await plan.dispose().catch((err: Error) => ctx.log(`note: could not remove the backup's temporary files: ${err.message}`));
  }
}

/** The engines' restore target of a job's database target ('' fields = not given). */
export function toDatabaseTarget(target: DatabaseRestoreTarget): DatabaseTarget {
  switch (target.kind) {
    case 'postgres':
      return {
        kind: 'postgres',
        url: target.url,
        clean: target.clean,
        ...(target.password !== '' ? { password: target.password } : {}),
        ...(target.sourceDatabase !== '' ? { sourceDatabase: target.sourceDatabase } : {}),
        ...(target.schemas.length > 0 ? { schemas: target.schemas } : {}),
        ...(target.jobs > 0 ? { jobs: target.jobs } : {}),
        ...(target.noOwner ? { noOwner: true } : {}),
        ...(target.globals ? { globals: true } : {}),
      };
    case 'mysql':
      return {
        kind: 'mysql',
        url: target.url,
        clean: target.clean,
        ...(target.password !== '' ? { password: target.password } : {}),
        ...(target.sourceDatabase !== '' ? { sourceDatabase: target.sourceDatabase } : {}),
      };
    case 'redis':
      return { kind: 'redis', dir: target.dir, clean: target.clean };
  }
}

/** Names a restore target in the job log, without any password. */
export function describeDatabaseTarget(target: DatabaseRestoreTarget): string {
  return target.kind === 'redis' ? `Redis data directory ${target.dir}` : `${engineName(target.kind)} ${redactUrl(target.url)}`;
}

/** Restores a database snapshot and logs the engine's report. */
export async function restoreDatabaseSnapshot(repo: Repository, snapshot: Snapshot, target: DatabaseRestoreTarget, ctx: JobContext): Promise<{ files: number; bytes: number }> {
  ctx.progress({ phase: `restoring into ${engineName(target.kind)}` });
  const report = await restoreDatabase(snapshotFileOpener(repo, snapshot), toDatabaseTarget(target), toolContext(ctx));
  for (const note of report.notes) ctx.log(`note: ${note}`);
  ctx.log(`restored ${report.files.join(', ')} (${report.bytes} bytes) into ${report.target}${report.created ? ' (created)' : ''}`);
  return { files: report.files.length, bytes: report.bytes };
}

/** Verifies a database snapshot with the engine's tools; its lines go to the job log. */
export async function verifyDatabase(repo: Repository, snapshotId: string, snapshot: Snapshot, ctx: JobContext): Promise<void> {
  if (!['postgres', 'mysql', 'redis'].includes(snapshot.sourceKind)) {
    throw new SourceError(`snapshot ${snapshotId.slice(0, 8)} is not a database backup; use check --read-data`);
  }
  ctx.progress({ phase: `verifying ${engineName(snapshot.sourceKind as 'postgres')}` });
  const { manifest, lines } = await verifyDatabaseSnapshot(snapshotFileOpener(repo, snapshot), toolContext(ctx));
  for (const line of lines) ctx.log(line);
  ctx.log(`snapshot ${snapshotId.slice(0, 8)}: ${engineName(manifest.kind)} backup of ${manifest.server} (${manifest.items.length} dump file(s)) verified`);
}
