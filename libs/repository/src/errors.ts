/**
 * Errors a person can act on. The CLI prints their message as one line and exits 1;
 * anything else is a bug and is reported as such.
 */
export class RepositoryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** The location holds no repository. */
export class NotARepositoryError extends RepositoryError {}
/** No key of the repository opens with the password given. */
export class WrongPasswordError extends RepositoryError {}
/** `init` found a repository already there. */
export class RepositoryExistsError extends RepositoryError {}
/** A snapshot reference matched nothing, or more than one snapshot. */
export class SnapshotNotFoundError extends RepositoryError {}
/** Another process holds a conflicting lock. */
export class RepositoryLockedError extends RepositoryError {}
/** Invalid arguments to a repository operation. */
export class UsageError extends RepositoryError {}
