import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { killGroup, ToolFailedError, truncate } from './tool-output';

/** Also here: callers of runTool catch it. */
export { ToolFailedError } from './tool-output';


/** Options of runTool. */
export interface RunToolOptions {
  env?: NodeJS.ProcessEnv;
  /** Fed to the tool's stdin (a dump for pg_restore, SQL for psql); stdin is closed when absent. */
  input?: NodeJS.ReadableStream | string;
  /** Killed (whole process group) after this long; the error says so. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Names the tool in errors: "pg_restore into app exited with status 1: …". */
  label?: string;
  /** Each line of stderr, as it comes (for job logs). */
  onStderrLine?: (line: string) => void;
  /** Each line of stdout, as it comes; when given, stdout is not collected. */
  onStdoutLine?: (line: string) => void;
  cwd?: string;
}

/** What a tool that exited 0 printed. */
export interface ToolRun {
  stdout: string;
  stderr: string;
}

const MAX_CAPTURE = 16 * 1024 * 1024;

/**
 * Runs a tool to the end (no shell: arguments are never re-parsed) and resolves with its
 * output when it exits 0. Otherwise rejects with ToolFailedError naming the tool and its
 * last meaningful stderr line, which is what tells a user what went wrong ("FATAL: role
 * "x" does not exist"). A stopped or timed-out tool is killed with its process group.
 */
export function runTool(file: string, args: string[], options: RunToolOptions = {}): Promise<ToolRun> {
  const label = options.label ?? file;
  return new Promise<ToolRun>((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'], env: options.env ?? process.env, detached: true, cwd: options.cwd });
    let stdout = '';
    let stderr = '';
    let lastStderrLine = '';
    let stoppedBecause: Error | undefined;
    const stop = (why: Error) => {
      stoppedBecause ??= why;
      killGroup(child.pid, 'SIGTERM');
      setTimeout(() => killGroup(child.pid, 'SIGKILL'), 5_000).unref();
    };
    const timer = options.timeoutMs ? setTimeout(() => stop(new Error(`${label} did not finish within ${Math.round(options.timeoutMs! / 1000)} s and was stopped`)), options.timeoutMs) : undefined;
    const onAbort = () => stop(options.signal?.reason instanceof Error ? options.signal.reason : new Error(`${label} was stopped`));
    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener('abort', onAbort, { once: true });

    if (options.onStdoutLine) createInterface({ input: child.stdout, crlfDelay: Infinity }).on('line', options.onStdoutLine);
    else child.stdout.on('data', (chunk: Buffer) => (stdout.length < MAX_CAPTURE ? (stdout += chunk.toString('utf8')) : undefined));
    createInterface({ input: child.stderr, crlfDelay: Infinity }).on('line', (line) => {
      if (line.trim() !== '') lastStderrLine = line.trim();
      if (stderr.length < MAX_CAPTURE) stderr += `${line}\n`;
      options.onStderrLine?.(line);
    });

    // A tool that stops reading (it failed) breaks the pipe: that is its exit status's story, not ours.
    child.stdin.on('error', () => undefined);
    if (options.input === undefined) child.stdin.end();
    else if (typeof options.input === 'string') child.stdin.end(options.input);
    else {
      // pipe, not pipeline: a tool that stops reading early (pg_restore --list) must not
      // fail the source, and a source that fails (a damaged snapshot) must stop the tool
      // rather than let it finish on half of its input.
      options.input.once('error', (err: Error) => stop(err));
      options.input.pipe(child.stdin);
    }

    child.once('error', (err) => {
      if (timer) clearTimeout(timer);
      reject(new ToolFailedError(`cannot run ${label}: ${err.message}`, stderr, null));
    });
    child.once('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      if (stoppedBecause) return reject(stoppedBecause);
      if (code === 0) return resolve({ stdout, stderr });
      const why = signal ? `${label} was killed by ${signal}` : `${label} exited with status ${code}`;
      reject(new ToolFailedError(lastStderrLine ? `${why}: ${truncate(lastStderrLine, 300)}` : why, stderr, code));
    });
  });
}
