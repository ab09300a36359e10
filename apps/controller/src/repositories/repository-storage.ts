import { Injectable, Logger } from '@nestjs/common';
import { IntegrityError, NotARepositoryError, Repository, RepositoryError, RepositoryExistsError, SnapshotRef, WriteOnlyKeyError, WrongPasswordError } from '@coffer/repository';
import { describeLocation, openStorage, Storage, StorageError, usingStorage } from '@coffer/storage';
import { ApiException } from '../shared/api-exception';

/** What opening a repository needs; the secrets never leave the controller. */
export interface RepositoryLocation {
  url: string;
  password: string;
  /** Storage credentials (for drivers that take them). */
  environment: Record<string, string>;
}

/**
 * The repositories in storage, as the controller reaches them (a port: tests and future
 * drivers swap the implementation). Failures a person can fix are ApiException 422.
 */
export abstract class RepositoryStorage {
  /**
   * Proves the password opens the repository at the location. With `initialize`, creates
   * the repository first when the location holds none. Returns whether it was created.
   */
  abstract connect(location: RepositoryLocation, options: { initialize: boolean }): Promise<{ created: boolean }>;
  /** Every snapshot stored in the repository, oldest first. */
  abstract listSnapshots(location: RepositoryLocation): Promise<SnapshotRef[]>;
}

/** RepositoryStorage on @coffer/storage and @coffer/repository, in this process. */
@Injectable()
export class CofferRepositoryStorage extends RepositoryStorage {
  private readonly logger = new Logger('RepositoryStorage');

  async connect(location: RepositoryLocation, options: { initialize: boolean }): Promise<{ created: boolean }> {
    return this.withStorage(location, async (storage) => {
      if (options.initialize) {
        try {
          await Repository.init(storage, location.password);
          return { created: true };
        } catch (err) {
          if (!(err instanceof RepositoryExistsError)) throw err;
          // Already there: registering it is fine as long as the password opens it.
        }
      }
      await Repository.open(storage, location.password);
      return { created: false };
    });
  }

  async listSnapshots(location: RepositoryLocation): Promise<SnapshotRef[]> {
    return this.withStorage(location, async (storage) => {
      const repository = await Repository.open(storage, location.password);
      // One damaged snapshot must not hide the others from the catalog; `coffer repo check` names it.
      return repository.listSnapshots((id, err) => this.logger.warn(`snapshot ${id} in ${storage.location} is unreadable and left out: ${err.message}`));
    });
  }

  private async withStorage<T>(location: RepositoryLocation, work: (storage: Storage) => Promise<T>): Promise<T> {
    const where = describeLocation(location.url);
    let storage: Storage;
    try {
      storage = openStorage(location.url, { env: { ...process.env, ...location.environment } });
    } catch (err) {
      throw toApiException(err, where);
    }
    try {
      return await usingStorage(storage, work);
    } catch (err) {
      throw toApiException(err, where);
    }
  }
}

/** Library errors a person can act on become 422s naming the location; anything else stays a bug (500). */
function toApiException(err: unknown, where: string): unknown {
  if (err instanceof WrongPasswordError) return new ApiException(422, 'wrong_password', `the password does not open the repository at ${where}`);
  if (err instanceof NotARepositoryError) {
    return new ApiException(422, 'not_a_repository', `no Coffer repository at ${where}; pass initialize: true (coffer repos add --init) to create one`);
  }
  if (err instanceof WriteOnlyKeyError) {
    return new ApiException(422, 'write_only_key', `the password opens only a write-only key of the repository at ${where}: the controller needs a key that can read`);
  }
  if (err instanceof IntegrityError) return new ApiException(422, 'repository_damaged', `the repository at ${where} is damaged: ${err.message} (run coffer repo check)`);
  if (err instanceof StorageError) return new ApiException(422, err.permanent ? 'storage_error' : 'storage_unavailable', err.message);
  if (err instanceof RepositoryError) return new ApiException(422, 'repository_error', err.message);
  return err;
}
