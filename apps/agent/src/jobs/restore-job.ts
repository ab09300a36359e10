import { isAbsolute, resolve } from 'node:path';
import { restoreSnapshot } from '@coffer/repository';
import { withHooks } from '@coffer/sources';
import { describeDatabaseTarget, restoreDatabaseSnapshot } from './database-job';
import { throwIfAborted } from './job-abort';
import type { JobContext } from './job-context';
import type { JobRequest, JobSpec } from './job-types';
import { withRepository } from './open-repository';

type RestoreSpec = Extract<JobSpec, { kind: 'restore' }>;

/**
 * RESTORE: a snapshot into target_dir (created if missing; it must be empty: a restore job
 * never overwrites what is there). Files that cannot be restored are named in the log and
 * fail the job; the others stay restored and are counted.
 *
 * With a database target, the snapshot (a database backup) is fed to the engine's restore
 * tools instead. Hooks, when given, run around the whole restore.
 */
export async function runRestoreJob(request: JobRequest, spec: RestoreSpec, ctx: JobContext): Promise<void> {
  if (!spec.snapshotId) throw new Error('the restore job names no snapshot');
  const hookContext = { log: (line: string) => ctx.log(line), signal: ctx.signal, env: { COFFER_JOB_ID: request.jobId, COFFER_SNAPSHOT_ID: spec.snapshotId } };
  await withHooks(spec.hooks, 'restore', hookContext, () => (spec.database ? restoreIntoDatabase(request, spec, ctx) : restoreIntoDirectory(request, spec, ctx)));
}

async function restoreIntoDatabase(request: JobRequest, spec: RestoreSpec, ctx: JobContext): Promise<void> {
  const target = spec.database!;
  await withRepository(request.repository, ctx, async (repo) => {
    const ref = await repo.findSnapshot(spec.snapshotId);
    ctx.log(`restoring snapshot ${ref.id.slice(0, 8)} into ${describeDatabaseTarget(target)}`);
    const result = await restoreDatabaseSnapshot(repo, ref.snapshot, target, ctx);
    ctx.products.restoredFiles = result.files;
    ctx.products.restoredBytes = result.bytes;
  });
}

async function restoreIntoDirectory(request: JobRequest, spec: RestoreSpec, ctx: JobContext): Promise<void> {
  if (!isAbsolute(spec.targetDir)) throw new Error(`the restore target "${spec.targetDir}" is not an absolute path`);
  const target = resolve(spec.targetDir);
  await withRepository(request.repository, ctx, async (repo) => {
    const ref = await repo.findSnapshot(spec.snapshotId);
    // Without include patterns the snapshot says how much there is to write.
    const whole = spec.include.length === 0;
    ctx.progress({ phase: 'restoring' });
    const result = await restoreSnapshot(repo, ref.snapshot, {
      target,
      include: whole ? undefined : spec.include,
      // Called as each batch of files is done, inside the engine's task promise: throwing
      // here fails that task, and restoreSnapshot stops at its next wait (and closes its
      // workers). That is how a stopped restore ends after the batch in flight.
      onProgress: (p) => {
        ctx.products.restoredFiles = p.files; // how far a restore that is stopped got
        ctx.products.restoredBytes = p.bytes;
        throwIfAborted(ctx.signal);
        ctx.progress({
          phase: 'restoring',
          filesDone: p.files,
          filesTotal: whole ? ref.snapshot.stats.files : 0,
          bytesDone: p.bytes,
          bytesTotal: whole ? ref.snapshot.stats.totalBytes : 0,
        });
      },
    });
    ctx.products.restoredFiles = result.files;
    ctx.products.restoredBytes = result.bytes;
    for (const error of result.errors) ctx.log(`error: ${error}`);
    ctx.log(`restored ${result.files} file(s), ${result.dirs} director(ies), ${result.symlinks} symlink(s), ${result.bytes} bytes from snapshot ${ref.id.slice(0, 8)} to ${target}`);
    if (result.errors.length > 0) throw new Error(`${result.errors.length} path(s) could not be restored (named in the job log); the others were restored`);
  });
}
