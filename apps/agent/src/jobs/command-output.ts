import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { abortError } from './job-abort';

/** How long a command gets between SIGTERM and SIGKILL when its job is stopped. */
const KILL_GRACE_MS = 5_000;

/** Options of commandOutput. */
export interface CommandOutputOptions {
  signal: AbortSignal;
  /** Each line the command writes on stderr. */
  onStderrLine: (line: string) => void;
  /** Told the command's process group id, so it can be killed with everything it started. */
  onProcessGroup?: (pgid: number) => void;
  env?: NodeJS.ProcessEnv;
}

/**
 * Runs `/bin/sh -c command` and returns its standard output as a stream that ENDS ONLY
 * AFTER THE COMMAND EXITED WITH STATUS 0. If the command exits non-zero, is killed, cannot
 * be started, or the job is stopped, the stream is destroyed with an error instead, so
 * backupStream (which writes its snapshot only after a clean end) fails and writes none.
 * A dump that stops halfway must never become a snapshot that looks complete.
 *
 * Backpressure: stdout is paused while the consumer is behind.
 */
export function commandOutput(command: string, options: CommandOutputOptions): Readable {
  // Its own process group: `a; b` or `a | b` makes the shell fork, and signalling only the
  // shell would leave `a` running. The whole group is signalled instead.
  const child = spawn('/bin/sh', ['-c', command], { stdio: ['ignore', 'pipe', 'pipe'], env: options.env ?? process.env, detached: true });
  if (child.pid !== undefined) options.onProcessGroup?.(child.pid);
  let lastStderrLine = '';
  let killTimer: NodeJS.Timeout | undefined;

  const stop = () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    killGroup(child.pid, 'SIGTERM');
    killTimer = setTimeout(() => killGroup(child.pid, 'SIGKILL'), KILL_GRACE_MS);
    killTimer.unref();
  };

  const output = new Readable({
    read() {
      child.stdout.resume();
    },
    destroy(err, callback) {
      options.signal.removeEventListener('abort', onAbort);
      // The consumer gave up (or we did): the command must not run on unobserved.
      child.stdout.destroy();
      stop();
      callback(err);
    },
  });

  // The consumer may not be reading yet when the command fails (backupStream locks the
  // repository and loads its index first); the failure stays stored on the stream and is
  // thrown by its iterator, so an unobserved 'error' event must not crash the process.
  output.on('error', () => undefined);

  child.stdout.on('data', (chunk: Buffer) => {
    if (!output.push(chunk)) child.stdout.pause();
  });
  createInterface({ input: child.stderr, crlfDelay: Infinity }).on('line', (line) => {
    if (line.trim() !== '') lastStderrLine = line.trim();
    options.onStderrLine(line);
  });
  child.once('error', (err) => output.destroy(new Error(`cannot run the command: ${err.message}`)));
  // 'close' comes after the process exited AND its stdout and stderr were read to the end.
  child.once('close', (code, signal) => {
    if (killTimer) clearTimeout(killTimer);
    if (output.destroyed) return;
    if (code === 0) {
      output.push(null);
      return;
    }
    const why = signal ? `the command was killed by ${signal}` : `the command exited with status ${code}`;
    output.destroy(new Error(lastStderrLine ? `${why}: ${truncate(lastStderrLine, 300)}` : why));
  });

  const onAbort = () => output.destroy(abortError(options.signal));
  if (options.signal.aborted) onAbort();
  else options.signal.addEventListener('abort', onAbort, { once: true });
  return output;
}

/** Signals a process group; one that is already gone is not an error. */
export function killGroup(pgid: number | undefined, signal: NodeJS.Signals): void {
  if (pgid === undefined) return;
  try {
    process.kill(-pgid, signal);
  } catch {
    // already gone
  }
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
