import { runTool } from '../process/run-tool';

/** A command run before or after a backup or restore (stop a container, flush tables, run migrations). */
export interface Hook {
  /** Run with /bin/sh -c. */
  run: string;
  /** Killed, with everything it started, after this long. */
  timeoutSeconds: number;
  /** fail: the hook's failure fails the job (a failing "before" hook means no backup); continue: logged, and the job goes on. */
  onFailure: 'fail' | 'continue';
}

/** Hooks around one operation. */
export interface Hooks {
  before: Hook[];
  after: Hook[];
}

/** Where hooks run and what they are told. */
export interface HookContext {
  /** Each line of each hook's output (stdout and stderr), prefixed with which hook it is. */
  log: (line: string) => void;
  signal?: AbortSignal;
  /** Variables added to the hook's environment (COFFER_OPERATION, COFFER_STATUS, …). */
  env?: Record<string, string>;
}

/** A hook with onFailure "fail" that failed; the message says which hook and why. */
export class HookFailedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HookFailedError';
  }
}

/**
 * Runs hooks in order. A hook is named by its position only ("before hook 2"), never by its
 * command line, which often carries credentials. The first failing hook with onFailure
 * "fail" stops the rest and throws HookFailedError; one with "continue" is logged.
 */
export async function runHooks(hooks: Hook[], phase: 'before' | 'after', context: HookContext): Promise<void> {
  for (const [index, hook] of hooks.entries()) {
    const name = `${phase} hook ${index + 1}`;
    const log = (line: string) => context.log(`${name}: ${line}`);
    const started = Date.now();
    try {
      await runTool('/bin/sh', ['-c', hook.run], {
        label: name,
        timeoutMs: hook.timeoutSeconds * 1000,
        signal: context.signal,
        env: { ...process.env, ...context.env },
        onStdoutLine: log,
        onStderrLine: log,
      });
      context.log(`${name} finished in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    } catch (err) {
      if (context.signal?.aborted) throw err;
      const message = err instanceof Error ? err.message : String(err);
      if (hook.onFailure === 'fail') throw new HookFailedError(`${message} (onFailure: fail)`);
      context.log(`${message}; going on (onFailure: continue)`);
    }
  }
}

/**
 * Runs `operation` between its hooks. "after" hooks run whether the operation succeeded or
 * not (the container a "before" hook stopped must be started again), and learn the outcome
 * from COFFER_STATUS (succeeded / failed). A "before" hook that fails with onFailure "fail"
 * means the operation does not run; its "after" hooks still do.
 */
export async function withHooks<T>(hooks: Hooks | undefined, operation: string, context: HookContext, work: () => Promise<T>): Promise<T> {
  if (!hooks || (hooks.before.length === 0 && hooks.after.length === 0)) return work();
  const env = { ...context.env, COFFER_OPERATION: operation };
  let result: T;
  try {
    await runHooks(hooks.before, 'before', { ...context, env });
    result = await work();
  } catch (err) {
    await runHooks(hooks.after, 'after', { ...context, env: { ...env, COFFER_STATUS: 'failed' } }).catch((hookError: Error) => context.log(`${hookError.message}`));
    throw err;
  }
  await runHooks(hooks.after, 'after', { ...context, env: { ...env, COFFER_STATUS: 'succeeded' } });
  return result;
}
