import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';

/** How long a tool gets between SIGTERM and SIGKILL when it is stopped. */
const KILL_GRACE_MS = 5_000;

/** A tool that exited non-zero, was killed, timed out or could not start. */
export class ToolFailedError extends Error {
  constructor(
    message: string,
    readonly stderr: string,
    readonly exitCode: number | null,
  ) {
    super(message);
    this.name = 'ToolFailedError';
  }
}

/** Options of toolOutput and commandOutput. */
export interface ToolOutputOptions {
  /** Stops the tool; the stream then fails with the signal's reason. */
  signal?: AbortSignal;
  /** Each line the tool writes on stderr. */
  onStderrLine?: (line: string) => void;
  /** Told the tool's process group id, so it can be killed with everything it started. */
  onProcessGroup?: (pgid: number) => void;
  env?: NodeJS.ProcessEnv;
  /** Names the tool in errors: "pg_dump of app exited with status 1: …". Default: the file name. */
  label?: string;
  /**
   * Called once the tool exited 0, with everything it wrote on stderr; may return how many
   * of the bytes already read are the real output (redis-cli --rdb - writes a 40-byte end
   * marker after the RDB and reports the RDB's length on stderr). When it returns a count,
   * the stream holds back the last `holdBack` bytes until then and cuts the output there.
   */
  trim?: { holdBack: number; outputLength: (stderr: string) => number | undefined };
}

/**
 * Runs a tool and returns its standard output as a stream that ENDS ONLY AFTER THE TOOL
 * EXITED WITH STATUS 0. If it exits non-zero, is killed, cannot be started, or `signal`
 * fires, the stream is destroyed with an error instead, so a backup (which writes its
 * snapshot only after a clean end) fails and writes none. A dump that stops halfway must
 * never become a snapshot that looks complete.
 *
 * Backpressure: the tool's stdout is paused while the consumer is behind.
 */
export function toolOutput(file: string, args: string[], options: ToolOutputOptions = {}): Readable {
  const label = options.label ?? file;
  // Its own process group: a shell command `a | b` forks, and signalling only the shell
  // would leave `a` running. The whole group is signalled instead.
  const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], env: options.env ?? process.env, detached: true });
  if (child.pid !== undefined) options.onProcessGroup?.(child.pid);
  let lastStderrLine = '';
  let stderr = '';
  let killTimer: NodeJS.Timeout | undefined;
  const holdBack = options.trim?.holdBack ?? 0;
  let held = Buffer.alloc(0);
  let pushed = 0;

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
      options.signal?.removeEventListener('abort', onAbort);
      // The consumer gave up (or we did): the tool must not run on unobserved.
      child.stdout.destroy();
      stop();
      callback(err);
    },
  });

  // The consumer may not be reading yet when the tool fails (a backup locks the repository
  // and loads its index first); the failure stays stored on the stream and is thrown by its
  // iterator, so an unobserved 'error' event must not crash the process.
  output.on('error', () => undefined);

  const push = (chunk: Buffer): boolean => {
    pushed += chunk.length;
    return output.push(chunk);
  };
  child.stdout.on('data', (chunk: Buffer) => {
    if (holdBack > 0) {
      held = Buffer.concat([held, chunk]);
      if (held.length <= holdBack) return;
      chunk = held.subarray(0, held.length - holdBack);
      held = Buffer.from(held.subarray(held.length - holdBack));
    }
    if (!push(chunk)) child.stdout.pause();
  });
  createInterface({ input: child.stderr, crlfDelay: Infinity }).on('line', (line) => {
    if (line.trim() !== '') lastStderrLine = line.trim();
    if (stderr.length < 64 * 1024) stderr += `${line}\n`;
    options.onStderrLine?.(line);
  });
  child.once('error', (err) => output.destroy(new ToolFailedError(`cannot run ${label}: ${err.message}`, stderr, null)));
  // 'close' comes after the process exited AND its stdout and stderr were read to the end.
  child.once('close', (code, signal) => {
    if (killTimer) clearTimeout(killTimer);
    if (output.destroyed) return;
    if (code === 0) {
      if (held.length > 0) {
        const length = options.trim?.outputLength(stderr);
        const keep = length === undefined ? held.length : length - pushed;
        if (keep < 0 || keep > held.length) {
          output.destroy(new ToolFailedError(`${label} reported ${length} bytes of output but wrote ${pushed + held.length}`, stderr, 0));
          return;
        }
        if (keep > 0) push(held.subarray(0, keep));
      }
      output.push(null);
      return;
    }
    const why = signal ? `${label} was killed by ${signal}` : `${label} exited with status ${code}`;
    output.destroy(new ToolFailedError(lastStderrLine ? `${why}: ${truncate(lastStderrLine, 300)}` : why, stderr, code));
  });

  const onAbort = () => output.destroy(options.signal?.reason instanceof Error ? options.signal.reason : new Error(`${label} was stopped`));
  if (options.signal?.aborted) onAbort();
  else options.signal?.addEventListener('abort', onAbort, { once: true });
  return output;
}

/** `/bin/sh -c command`'s standard output, with toolOutput's guarantees; errors name "the command". */
export function commandOutput(command: string, options: ToolOutputOptions = {}): Readable {
  return toolOutput('/bin/sh', ['-c', command], { label: 'the command', ...options });
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

export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
