import { fork } from 'node:child_process';
import { join } from 'node:path';
import type { AbortReason } from './job-abort';
import type { FromJobProcess, ToJobProcess, WorkOutcome } from './job-process-protocol';
import type { JobProgressReport, JobRequest } from './job-types';

/** How a job's process ended: its outcome if it reported one, and how it exited. */
export interface JobEnd {
  outcome?: WorkOutcome;
  /** e.g. "exit code 1", "signal SIGKILL". */
  exit: string;
}

/** What the job sends while it runs. */
export interface JobObserver {
  onProgress(progress: Omit<JobProgressReport, 'jobId'>): void;
  onLog(line: string): void;
}

/** A running job. */
export interface JobHandle {
  /** Asks the job to stop as soon as it safely can. */
  abort(reason: AbortReason): void;
  /** Stops it now, whatever it is doing. */
  kill(): void;
  /** Settles once the job has ended and its process is gone. Never rejects. */
  readonly ended: Promise<JobEnd>;
}

/** Starts jobs: the port between the job manager and processes (a fake in unit tests). */
export interface JobLauncher {
  launch(request: JobRequest, agentName: string, observer: JobObserver): JobHandle;
}

/**
 * Runs each job in its own child process (dist/jobs/job-process.js), in its own process
 * group. The agent stays small while idle (the repository engine is loaded only there),
 * a crashing job cannot take the agent down, and `kill()` stops everything the job started
 * — the job, its worker threads, and a backup command with its children (which the job
 * puts in a group of their own and reports) — by signalling those groups. They are
 * signalled again once the job has exited, so nothing it started outlives it.
 * The job and its secrets go over the IPC channel only.
 */
export class ProcessJobLauncher implements JobLauncher {
  /**
   * `cacheDir`: where jobs keep what a write-only key's next backup compares against
   * (COFFER_CACHE_DIR of the job), so the agent's state stays in its data dir rather than in
   * its user's home; an operator's own COFFER_CACHE_DIR wins.
   */
  constructor(
    private readonly cacheDir?: string,
    private readonly script = join(__dirname, 'job-process.js'),
  ) {}

  launch(request: JobRequest, agentName: string, observer: JobObserver): JobHandle {
    const child = fork(this.script, [], {
      detached: true, // own process group, so kill() reaches everything it runs
      env: this.cacheDir && !process.env.COFFER_CACHE_DIR ? { ...process.env, COFFER_CACHE_DIR: this.cacheDir } : process.env,
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      serialization: 'advanced',
      execArgv: [],
    });
    let outcome: WorkOutcome | undefined;
    // The job's own group, and the groups of commands it started (those have their own).
    const groups = new Set<number>(child.pid !== undefined ? [child.pid] : []);
    child.on('message', (message: FromJobProcess) => {
      if (message.type === 'progress') observer.onProgress(message.progress);
      else if (message.type === 'log') observer.onLog(message.line);
      else if (message.type === 'process-group') groups.add(message.pgid);
      else if (message.type === 'done') outcome = message.outcome;
    });
    const send = (message: ToJobProcess) => {
      if (child.connected) child.send(message, (err) => void err); // a job that already exited needs nothing more
    };
    const killGroup = () => {
      for (const pgid of groups) {
        try {
          process.kill(-pgid, 'SIGKILL');
        } catch {
          // the group is already gone
        }
      }
    };
    const ended = new Promise<JobEnd>((resolve) => {
      child.once('error', (err) => {
        if (child.pid === undefined) resolve({ exit: `could not start: ${err.message}` });
      });
      // 'close', not 'exit': it comes after the last IPC message (the outcome) was read.
      child.once('close', (code, signal) => {
        // Whatever the job started and left behind (a backup command's children) goes with it.
        killGroup();
        resolve({ outcome, exit: signal ? `signal ${signal}` : `exit code ${code}` });
      });
    });
    send({ type: 'start', request, agentName });
    return { abort: (reason) => send({ type: 'abort', reason }), kill: killGroup, ended };
  }
}
