import { CommanderError } from 'commander';
import { IntegrityError, RepositoryError, WriteOnlyKeyError } from '@coffer/repository';
import { HookFailedError, SourceError, ToolFailedError } from '@coffer/sources';
import { StorageError } from '@coffer/storage';

/** A failure the user can act on, raised by the CLI itself (bad option, unreadable password file…). */
export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliError';
  }
}

/**
 * The one line printed for a failure (without the `coffer: ` prefix). Errors of the
 * libraries' documented kinds carry messages meant for people; anything else is a bug in
 * Coffer and says so, so it is not mistaken for something the user did.
 */
export function describeFailure(err: unknown): { message: string; internal: boolean } {
  if (isUserFacing(err)) return { message: oneLine(err.message), internal: false };
  const message = err instanceof Error ? err.message : String(err);
  return { message: `internal error: ${oneLine(message)}`, internal: true };
}

/** Writes the failure to stderr as `coffer: <message>`, with the stack only when COFFER_DEBUG=1. */
export function reportFailure(err: unknown, stderr: NodeJS.WritableStream = process.stderr, env: NodeJS.ProcessEnv = process.env): void {
  stderr.write(`coffer: ${describeFailure(err).message}\n`);
  if (env.COFFER_DEBUG === '1' && err instanceof Error && err.stack) stderr.write(`${err.stack}\n`);
}

function isUserFacing(err: unknown): err is Error {
  return (
    err instanceof CliError ||
    err instanceof RepositoryError ||
    err instanceof StorageError ||
    err instanceof IntegrityError ||
    err instanceof WriteOnlyKeyError ||
    err instanceof CommanderError ||
    err instanceof SourceError ||
    err instanceof ToolFailedError ||
    err instanceof HookFailedError ||
    isSystemError(err)
  );
}

/**
 * A failed system call (EACCES, ENOSPC…) that reached the CLI unwrapped: its message names the
 * call and the path, which is something a person can act on.
 */
function isSystemError(err: unknown): err is NodeJS.ErrnoException {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).code === 'string' && typeof (err as NodeJS.ErrnoException).syscall === 'string';
}

/** Folds a multi-line message ("bad filter patterns:\n  a\n  b") into one line. */
export function oneLine(message: string): string {
  const lines = message
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  if (lines.length <= 1) return lines[0] ?? '';
  return `${lines[0]} ${lines.slice(1).join('; ')}`;
}
