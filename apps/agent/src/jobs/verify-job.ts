import { throwIfAborted } from './job-abort';
import type { JobContext } from './job-context';
import type { JobRequest, JobSpec } from './job-types';
import { verifyDatabase } from './database-job';
import { withRepository } from './open-repository';

type VerifySpec = Extract<JobSpec, { kind: 'verify' }>;

/**
 * VERIFY: reads one database snapshot and checks every dump with the engine's own tools
 * (pg_restore --list and the like) without restoring it; one log line per dump file. A
 * snapshot that is not a database backup fails with what to run instead.
 */
export async function runVerifyJob(request: JobRequest, spec: VerifySpec, ctx: JobContext): Promise<void> {
  if (!spec.snapshotId) throw new Error('the verify job names no snapshot');
  await withRepository(request.repository, ctx, async (repo) => {
    const ref = await repo.findSnapshot(spec.snapshotId);
    throwIfAborted(ctx.signal);
    await verifyDatabase(repo, ref.id, ref.snapshot, ctx);
  });
}
