import { ExitCode } from './exit-codes';

/**
 * Wraps a command's work for commander: the work returns the exit code, which the process
 * exits with once output is flushed (main.ts). Failures propagate to main.ts's one handler.
 */
export function action<A extends unknown[]>(run: (...args: A) => Promise<ExitCode>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    process.exitCode = await run(...args);
  };
}
