import type { JobDetailView, JobView } from '@coffer/contracts';
import { CliError } from '../shared/cli-error';
import { shortId } from '../shared/format';
import { ProgressFigures, Terminal } from '../shared/terminal';
import { ControllerClient, ControllerUnreachableError } from './controller-client';
import { describeJob, jobDuration } from './fleet-format';

/** How often a waiting command asks for the jobs' state. */
const POLL_EVERY_MS = 1000;
/** A controller restarting during a wait is waited out for this long before giving up. */
const UNREACHABLE_GRACE_MS = 30_000;

/**
 * Polls the jobs until every one has reached a terminal status, drawing progress on a
 * terminal and printing one line per job as it ends. Resolves with the jobs' final detail,
 * in the order given; does not judge the outcome (see `requireSuccess`).
 */
export async function waitForJobs(client: ControllerClient, jobs: JobView[], out: Terminal, pollEveryMs = POLL_EVERY_MS): Promise<JobDetailView[]> {
  // Loaded here, not at start-up: the contracts' runtime is not needed by other commands.
  const { TERMINAL_JOB_STATUSES } = await import('@coffer/contracts');
  const latest = new Map<string, JobView | JobDetailView>(jobs.map((j) => [j.id, j]));
  const finished = new Set<string>();
  let unreachableSince: number | undefined;
  if (out.showsProgress) out.note(`waiting for ${jobs.length === 1 ? `job ${shortId(jobs[0].id)}` : `${jobs.length} jobs`}; Ctrl-C stops waiting, not the job`);

  for (;;) {
    for (const { id } of jobs) {
      if (finished.has(id)) continue;
      let job: JobDetailView;
      try {
        job = await client.getJob(id);
        unreachableSince = undefined;
      } catch (err) {
        if (!(err instanceof ControllerUnreachableError)) throw err;
        unreachableSince ??= Date.now();
        if (Date.now() - unreachableSince > UNREACHABLE_GRACE_MS) throw err;
        break;
      }
      latest.set(id, job);
      if (TERMINAL_JOB_STATUSES.includes(job.status)) {
        finished.add(id);
        reportEnd(job, out, jobs.length > 1);
      }
    }
    if (finished.size === jobs.length) break;
    out.progress(progressOf([...latest.values()], finished.size));
    await new Promise((resolve) => setTimeout(resolve, pollEveryMs));
  }
  out.clearProgress();
  return jobs.map((j) => latest.get(j.id) as JobDetailView);
}

/** Fails (exit 1) unless every job succeeded, with the job's own error when there is one job. */
export function requireSuccess(jobs: JobView[]): void {
  const failed = jobs.filter((j) => j.status !== 'succeeded');
  if (failed.length === 0) return;
  if (jobs.length === 1) throw new CliError(`${describeJob(failed[0])} ${outcome(failed[0])}`);
  throw new CliError(`${failed.length} of ${jobs.length} jobs did not succeed (named above)`);
}

function reportEnd(job: JobDetailView, out: Terminal, several: boolean): void {
  if (job.status === 'succeeded') {
    const took = jobDuration(job);
    const snapshots = job.snapshotIds.length > 0 ? `, snapshot ${job.snapshotIds.map(shortId).join(', ')}` : '';
    out.print(`${describeJob(job)} succeeded${took ? ` in ${took}` : ''}${snapshots}`);
  } else if (several) {
    // One failure is the command's own error message; several are listed as they end.
    out.problem(`${describeJob(job)} ${outcome(job)}`);
  }
}

function outcome(job: JobView): string {
  const status = job.status.replace('_', ' ');
  return job.error ? `${status}: ${job.error}` : status;
}

function progressOf(jobs: JobView[], finished: number): ProgressFigures {
  if (jobs.length === 1) {
    const [job] = jobs;
    const p = job.progress;
    if (!p) return { activity: job.status };
    return {
      activity: p.phase || job.status,
      count: p.filesDone > 0 || p.filesTotal > 0 ? { done: p.filesDone, total: p.filesTotal > 0 ? p.filesTotal : undefined, noun: 'files' } : undefined,
      bytesDone: p.bytesDone,
      totalBytes: p.bytesTotal > 0 ? p.bytesTotal : undefined,
    };
  }
  const bytesDone = jobs.reduce((sum, j) => sum + (j.progress?.bytesDone ?? 0), 0);
  return { activity: 'running', count: { done: finished, total: jobs.length, noun: 'jobs done' }, bytesDone };
}
