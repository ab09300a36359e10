/*
 * Entry point of a job process: the agent forks one per job (job-launcher.ts), so the
 * repository engine, its worker threads and their memory exist only while a job runs, and
 * a job can always be stopped — gracefully through its AbortSignal, or by killing the
 * process when its work cannot be interrupted.
 */
import { killGroup } from '@coffer/sources';
import { JobAbortedError } from './job-abort';
import { emptyProducts, JobContext, ProgressUpdate } from './job-context';
import { describeJobError } from './job-errors';
import type { FromJobProcess, ToJobProcess, WorkOutcome } from './job-process-protocol';
import type { JobRequest } from './job-types';

/** Progress goes to the agent at most this often. */
const PROGRESS_EVERY_MS = 1000;

const abort = new AbortController();
let started = false;
let finishing = false;
/** Process groups the job started; none may outlive it. */
const adopted = new Set<number>();

function send(message: FromJobProcess): Promise<void> {
  return new Promise((resolve) => {
    if (!process.connected) return resolve();
    process.send!(message, undefined, undefined, () => resolve());
  });
}

async function finish(outcome: WorkOutcome): Promise<never> {
  if (finishing) return new Promise<never>(() => undefined); // a crash while finishing: the first outcome stands
  finishing = true;
  for (const pgid of adopted) killGroup(pgid, 'SIGKILL'); // a command's leftovers (its children) go too
  await send({ type: 'done', outcome });
  // Exit explicitly: a worker or timer a library left behind must not keep the job alive.
  process.exit(outcome.ok ? 0 : 1);
}

function progressReporter(): (update: ProgressUpdate) => void {
  let lastSent = 0;
  let lastBytes = 0;
  let pending: ProgressUpdate | undefined;
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    timer = undefined;
    if (!pending) return;
    const now = Date.now();
    const bytesDone = pending.bytesDone ?? 0;
    const rate = lastSent > 0 && now > lastSent ? Math.max(0, ((bytesDone - lastBytes) * 1000) / (now - lastSent)) : 0;
    void send({
      type: 'progress',
      progress: { phase: pending.phase, filesDone: pending.filesDone ?? 0, filesTotal: pending.filesTotal ?? 0, bytesDone, bytesTotal: pending.bytesTotal ?? 0, bytesPerSecond: rate },
    });
    lastSent = now;
    lastBytes = bytesDone;
    pending = undefined;
  };
  return (update) => {
    pending = update;
    if (timer) return;
    const wait = Math.max(0, lastSent + PROGRESS_EVERY_MS - Date.now());
    timer = setTimeout(flush, wait);
    timer.unref();
  };
}

async function run(request: JobRequest, agentName: string): Promise<never> {
  const { runJobWork } = await import('./job-work');
  const ctx: JobContext = {
    signal: abort.signal,
    agentName,
    products: emptyProducts(),
    log: (line) => void send({ type: 'log', line }),
    progress: progressReporter(),
    adoptProcessGroup: (pgid) => {
      adopted.add(pgid);
      void send({ type: 'process-group', pgid });
    },
  };
  try {
    await runJobWork(request, ctx);
    return await finish({ ok: true, errorMessage: '', aborted: false, products: ctx.products });
  } catch (err) {
    const aborted = abort.signal.aborted;
    return await finish({ ok: false, errorMessage: aborted ? describeJobError(abort.signal.reason) : describeJobError(err), aborted, products: ctx.products });
  }
}

process.title = 'coffer-agent job';
process.on('message', (message: ToJobProcess) => {
  if (message.type === 'start' && !started) {
    started = true;
    void run(message.request, message.agentName);
  } else if (message.type === 'abort' && !abort.signal.aborted) {
    abort.abort(new JobAbortedError(message.reason));
  }
});
// The agent went away (killed, crashed): stop the job rather than run on unobserved; the
// next agent records it as failed ("the agent stopped while the job was running").
process.on('disconnect', () => {
  if (!abort.signal.aborted) abort.abort(new JobAbortedError('shutdown'));
  if (!started) process.exit(1);
});
process.on('uncaughtException', (err) => {
  void finish({ ok: false, errorMessage: describeJobError(err), aborted: abort.signal.aborted, products: emptyProducts() });
});
// Once a backup fails or is stopped, promises inside the repository engine that nobody awaits
// any more (the nodes of directories never closed) reject too. Exiting on them would cut the
// engine's own cleanup short — its repository lock would be left behind. The job's outcome
// is decided by the job's own promise; these are only noted.
process.on('unhandledRejection', (reason) => {
  if (!abort.signal.aborted) void send({ type: 'log', line: `note: unobserved failure inside the job: ${describeJobError(reason)}` });
});
