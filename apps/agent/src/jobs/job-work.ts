import { runBackupJob } from './backup-job';
import { runCheckJob } from './check-job';
import type { JobContext } from './job-context';
import { runForgetJob } from './forget-job';
import type { JobRequest } from './job-types';
import { runPruneJob } from './prune-job';
import { runRestoreJob } from './restore-job';
import { runVerifyJob } from './verify-job';

/** Runs a job's work by kind. Resolves when it succeeded; throws (for people) when not. */
export async function runJobWork(request: JobRequest, ctx: JobContext): Promise<void> {
  const spec = request.spec;
  switch (spec.kind) {
    case 'backup':
      return runBackupJob(request, spec, ctx);
    case 'restore':
      return runRestoreJob(request, spec, ctx);
    case 'forget':
      return runForgetJob(request, spec, ctx);
    case 'prune':
      return runPruneJob(request, ctx);
    case 'check':
      return runCheckJob(request, spec, ctx);
    case 'verify':
      return runVerifyJob(request, spec, ctx);
  }
}
