import { Repository } from '@coffer/repository';
import { openStorage, usingStorage } from '@coffer/storage';
import { abortableStorage } from './job-abort';
import type { JobContext } from './job-context';
import type { RepositoryAccess } from './job-types';

/**
 * Opens the job's repository, runs `work` with it and closes the storage whatever happens,
 * as the CLI's withRepository does. The storage refuses further work once the job is
 * stopped (see abortableStorage).
 *
 * Storage credentials (`access.environment`, e.g. AWS_SECRET_ACCESS_KEY) go to the storage
 * driver only, over the agent's own environment; they are deliberately NOT copied into
 * process.env, where every later job and every command source would inherit them.
 */
export async function withRepository<T>(access: RepositoryAccess, ctx: JobContext, work: (repo: Repository) => Promise<T>): Promise<T> {
  const env = { ...process.env, ...access.environment };
  return usingStorage(abortableStorage(openStorage(access.url, { env }), ctx.signal), async (storage) => {
    const repo = await Repository.open(storage, access.password);
    repo.onUnreadableSnapshot = (_id, err) => ctx.log(`warning: ${err.message}: left out (run a check job)`);
    return work(repo);
  });
}
