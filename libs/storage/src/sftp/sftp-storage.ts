import { StorageError } from '../storage';
import type { Storage } from '../storage';

/** Placeholder until the sftp driver lands. */
export function openSftpStorage(location: string, _env: NodeJS.ProcessEnv): Storage {
  throw new StorageError(`storage "${location}" is not supported yet`, true);
}
