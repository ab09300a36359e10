import { StorageError } from '../storage';
import type { Storage } from '../storage';

/** Placeholder until the azure driver lands. */
export function openAzureStorage(location: string, _env: NodeJS.ProcessEnv): Storage {
  throw new StorageError(`storage "${location}" is not supported yet`, true);
}
