import { lstatSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { backupFiles, backupStream, BackupResult, Repository } from '@coffer/repository';
import { commandOutput, estimateWalk, walkFiles, WalkOptions, withHooks } from '@coffer/sources';
import { abortableIterable, abortError, throwIfAborted } from './job-abort';
import type { JobContext } from './job-context';
import { describeJobError } from './job-errors';
import type { BackupSource, JobRequest, JobSpec, SnapshotSummary } from './job-types';
import { backupDatabaseSource, describeDatabaseSource } from './database-job';
import { withRepository } from './open-repository';

type BackupSpec = Extract<JobSpec, { kind: 'backup' }>;

/**
 * BACKUP: one snapshot per source, recorded with host = the agent's name (several agents
 * may share a machine, and the name is what policies and the catalog know) and tags
 * ["policy=NAME", ...tags]. A failing source does not stop the others; the job fails if
 * any did, and still reports the snapshots that were written. The policy's hooks run around
 * the whole job: a failing "before" hook (onFailure: fail) means no source is backed up.
 */
export async function runBackupJob(request: JobRequest, spec: BackupSpec, ctx: JobContext): Promise<void> {
  if (spec.sources.length === 0) throw new Error('the backup job names no sources');
  const tags = [...(spec.policyName ? [`policy=${spec.policyName}`] : []), ...spec.tags];
  const hookContext = { log: (line: string) => ctx.log(line), signal: ctx.signal, env: { COFFER_POLICY: spec.policyName, COFFER_JOB_ID: request.jobId } };
  if (spec.hooks.before.length > 0) ctx.progress({ phase: 'running before hooks' });
  await withHooks(spec.hooks, 'backup', hookContext, () => backUpSources(request, spec, tags, ctx));
}

async function backUpSources(request: JobRequest, spec: BackupSpec, tags: string[], ctx: JobContext): Promise<void> {
  await withRepository(request.repository, ctx, async (repo) => {
    const failures: string[] = [];
    for (const source of spec.sources) {
      throwIfAborted(ctx.signal);
      const label = describeSource(source);
      try {
        const result =
          source.kind === 'files'
            ? await backupFilesSource(repo, source, tags, ctx)
            : source.kind === 'command'
              ? await backupCommandSource(repo, source, tags, ctx)
              : await backupDatabaseSource(repo, source, tags, ctx);
        ctx.products.snapshots.push(summarize(result));
        const warnings = result.snapshot.warnings.length;
        ctx.log(`snapshot ${result.snapshotId.slice(0, 8)} of ${label} saved${warnings > 0 ? ` with ${warnings} warning(s): what could not be read is not in it` : ''}`);
      } catch (err) {
        if (ctx.signal.aborted) throw abortError(ctx.signal);
        const message = describeJobError(err);
        ctx.log(`error: ${label}: ${message}`);
        failures.push(spec.sources.length === 1 ? message : `${label}: ${message}`);
      }
    }
    if (failures.length > 0) {
      throw new Error(spec.sources.length === 1 ? failures[0] : `${failures.length} of ${spec.sources.length} sources failed: ${failures.join('; ')}`);
    }
  });
}

/**
 * Names a source in the job log. A command is named by its file name only: command lines
 * often carry credentials; a database by its URL, which never carries a password.
 */
export function describeSource(source: BackupSource): string {
  if (source.kind === 'files') return `files ${source.paths.join(', ')}`;
  if (source.kind === 'command') return `command output "${source.filename}"`;
  return describeDatabaseSource(source);
}

async function backupFilesSource(repo: Repository, source: Extract<BackupSource, { kind: 'files' }>, tags: string[], ctx: JobContext): Promise<BackupResult> {
  if (source.paths.length === 0) throw new Error('the files source names no paths');
  for (const p of source.paths) {
    if (!isAbsolute(p)) throw new Error(`"${p}" is not an absolute path`);
    if (!lstatSync(p, { throwIfNoEntry: false })) throw new Error(`no such file or directory: ${p}`);
  }
  const paths = [...new Set(source.paths.map((p) => resolve(p)))];
  const filters: WalkOptions = { include: source.include, exclude: source.exclude, oneFileSystem: source.oneFileSystem };
  // walkFiles validates patterns and roots before yielding anything; its messages name the problem.
  const walk = abortableIterable(walkFiles(paths, filters), ctx.signal);
  const estimate = estimateWalk(paths, filters, ctx.signal);
  ctx.progress({ phase: 'scanning' });
  // No parent given: backupFiles picks the latest snapshot of the same host and paths, as the CLI does.
  return backupFiles(repo, walk, {
    paths,
    host: ctx.agentName,
    tags,
    onProgress: (p) =>
      ctx.progress({
        phase: 'backing up',
        filesDone: p.files,
        filesTotal: estimate.done ? estimate.files : 0,
        bytesDone: p.bytesDone,
        bytesTotal: estimate.done ? estimate.bytes : 0,
      }),
    onWarning: (message) => ctx.log(`warning: ${message}`),
    onNote: (message) => ctx.log(`note: ${message}`),
  });
}

async function backupCommandSource(repo: Repository, source: Extract<BackupSource, { kind: 'command' }>, tags: string[], ctx: JobContext): Promise<BackupResult> {
  if (source.command.trim() === '') throw new Error('the command source has no command');
  ctx.progress({ phase: 'running command' });
  const output = commandOutput(source.command, {
    signal: ctx.signal,
    onStderrLine: (line) => ctx.log(`stderr: ${line}`),
    onProcessGroup: (pgid) => ctx.adoptProcessGroup(pgid),
  });
  try {
    return await backupStream(repo, output, source.filename || 'stdin', {
      host: ctx.agentName,
      tags,
      onProgress: (p) => ctx.progress({ phase: 'backing up command output', bytesDone: p.bytesDone, filesDone: 0 }),
    });
  } finally {
    output.destroy(); // a no-op after a clean end; otherwise stops the command
  }
}

/** A snapshot as the catalog records it. */
export function summarize({ snapshotId, snapshot: s }: BackupResult): SnapshotSummary {
  return {
    id: snapshotId,
    timeUnixMs: Date.parse(s.time),
    hostname: s.host,
    sourceKind: s.sourceKind,
    paths: s.paths,
    tags: s.tags,
    parentId: s.parent ?? '',
    files: s.stats.files,
    bytesRead: s.stats.bytesRead,
    bytesNew: s.stats.bytesNew,
    bytesStored: s.stats.bytesStored,
    durationSeconds: s.stats.durationMs / 1000,
  };
}
