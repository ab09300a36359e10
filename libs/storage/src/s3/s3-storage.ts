import { StorageError } from '../storage';
import type { Storage } from '../storage';

/** Placeholder until the s3 driver lands. */
export function openS3Storage(location: string, _env: NodeJS.ProcessEnv): Storage {
  throw new StorageError(`storage "${location}" is not supported yet`, true);
}
