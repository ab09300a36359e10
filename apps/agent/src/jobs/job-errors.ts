import { IntegrityError, RepositoryError, WriteOnlyKeyError } from '@coffer/repository';
import { StorageError } from '@coffer/storage';
import { oneLine } from '../shared/agent-error';
import { JobAbortedError } from './job-abort';

/** Failed system calls, in words. */
const SYSTEM_ERRORS: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  ENOTDIR: 'not a directory',
  EISDIR: 'is a directory',
  EEXIST: 'already exists',
  ENOTEMPTY: 'directory not empty',
  EIO: 'input/output error',
  EMFILE: 'too many open files',
  ENAMETOOLONG: 'file name too long',
  ELOOP: 'too many levels of symbolic links',
};

/**
 * A job failure as one line for people ("wrong password: …", "no such file or directory:
 * /srv/x"), never a stack trace. The libraries' documented errors carry messages written for
 * people; a failed system call is named by its path; a JavaScript error that can only be a
 * bug says so.
 */
export function describeJobError(err: unknown): string {
  if (err instanceof JobAbortedError) return err.message;
  if (err instanceof RepositoryError || err instanceof StorageError || err instanceof IntegrityError || err instanceof WriteOnlyKeyError) {
    return oneLine(err.message);
  }
  const sys = err as NodeJS.ErrnoException;
  if (err instanceof Error && typeof sys.code === 'string' && SYSTEM_ERRORS[sys.code]) {
    return sys.path ? `${SYSTEM_ERRORS[sys.code]}: ${sys.path}` : `${SYSTEM_ERRORS[sys.code]} (${sys.syscall ?? sys.code})`;
  }
  if (err instanceof TypeError || err instanceof RangeError || err instanceof ReferenceError || err instanceof SyntaxError) {
    return `internal error in the agent: ${oneLine(err.message)}`;
  }
  // Plain Errors: the sources and the job code throw them with messages for people.
  return oneLine(err instanceof Error ? err.message : String(err));
}
