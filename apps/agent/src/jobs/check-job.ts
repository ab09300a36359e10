import { checkRepository } from '@coffer/repository';
import { throwIfAborted } from './job-abort';
import type { JobContext } from './job-context';
import type { JobRequest, JobSpec } from './job-types';
import { withRepository } from './open-repository';

type CheckSpec = Extract<JobSpec, { kind: 'check' }>;

/**
 * CHECK: structure always; with read_data, re-hash stored data (all of it, or
 * read_data_subset_percent of the packs). Errors found fail the job and are in its log.
 */
export async function runCheckJob(request: JobRequest, spec: CheckSpec, ctx: JobContext): Promise<void> {
  const subset = spec.readDataSubsetPercent;
  if (subset < 0 || subset > 100 || Number.isNaN(subset)) throw new Error(`read_data_subset_percent must be between 0 and 100, not ${subset}`);
  const readDataPercent = subset > 0 ? subset : spec.readData ? 100 : 0;
  await withRepository(request.repository, ctx, async (repo) => {
    ctx.progress({ phase: 'checking structure' });
    const result = await checkRepository(repo, {
      readDataPercent,
      // Called as each pack is verified, inside the engine's task promise: throwing here
      // fails that task, and checkRepository stops at its next wait (and closes its workers).
      onProgress: (p) => {
        throwIfAborted(ctx.signal);
        ctx.progress({ phase: 'reading data', filesDone: p.packsRead, filesTotal: p.packsToRead, bytesDone: p.bytesRead });
      },
    });
    for (const note of result.notes) ctx.log(`note: ${note}`);
    for (const error of result.errors) ctx.log(`error: ${error}`);
    const read = readDataPercent > 0 ? `, read ${result.packsRead} pack(s) (${result.bytesRead} bytes)` : '';
    ctx.log(`checked ${result.snapshots} snapshot(s), ${result.trees} tree(s), ${result.packs} pack(s)${read}: ${result.errors.length === 0 ? 'no errors found' : `${result.errors.length} error(s) found`}`);
    if (result.errors.length > 0) throw new Error(`the repository has ${result.errors.length} error(s) (listed in the job log)`);
  });
}
