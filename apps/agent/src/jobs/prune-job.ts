import { pruneRepository } from '@coffer/repository';
import type { JobContext } from './job-context';
import type { JobRequest } from './job-types';
import { withRepository } from './open-repository';

/** PRUNE: deletes stored data no snapshot references (safe beside running backups, and to interrupt between steps). */
export async function runPruneJob(request: JobRequest, ctx: JobContext): Promise<void> {
  await withRepository(request.repository, ctx, async (repo) => {
    const r = await pruneRepository(repo, {
      onProgress: (p) => ctx.progress({ phase: p.phase, filesDone: p.done, filesTotal: p.total }),
    });
    ctx.log(
      r.packsDeleted === 0 && r.packsRewritten === 0 && r.blobsRemoved === 0
        ? 'nothing to prune: all stored data is used by a snapshot'
        : `deleted ${r.packsDeleted} pack(s), rewrote ${r.packsRewritten} pack(s) and ${r.indexesRewritten} index(es): removed ${r.blobsRemoved} unused blob(s), freed ${r.bytesFreed} bytes`,
    );
    if (r.packsPending > 0) {
      ctx.log(`${r.packsPending} pack(s) (${r.bytesPending} bytes) marked for deletion wait for ${r.waitingFor.join(', ')} to end: the next prune deletes them`);
    }
  });
}
