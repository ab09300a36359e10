import { chmodSync, mkdirSync, statSync } from 'node:fs';
import type { LoggerService } from '@nestjs/common';
import { StartupError } from './startup-error';

/**
 * Makes sure the data directory exists and is private (mode 700): it holds the master key,
 * the CA key and the embedded database. A new one is created 700; an existing one of this
 * user is tightened to 700; a shared one (sticky bit, like /tmp) is refused.
 */
export function ensureDataDir(dir: string, logger: LoggerService): void {
  try {
    const existed = statSync(dir, { throwIfNoEntry: false });
    if (!existed) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      chmodSync(dir, 0o700); // mkdir's mode is filtered by the umask
      return;
    }
    if (!existed.isDirectory()) throw new StartupError(`the data directory ${dir} is not a directory`);
    if (existed.mode & 0o1000) throw new StartupError(`the data directory ${dir} is a shared directory (sticky bit): give the controller a directory of its own`);
    if ((existed.mode & 0o777) === 0o700) return;
    if (existed.uid === process.getuid?.()) {
      chmodSync(dir, 0o700);
      logger.log(`made the data directory ${dir} private (mode 700)`);
    } else {
      logger.warn(`the data directory ${dir} can be read by other users (mode ${(existed.mode & 0o777).toString(8)}): make it mode 700`);
    }
  } catch (err) {
    if (err instanceof StartupError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code === 'ENOTDIR' ? 'a parent is not a directory' : (err as Error).message;
    throw new StartupError(`cannot use the data directory ${dir}: ${why}`);
  }
}
