/** What `coffer` exits with; scripts and schedulers rely on these, so they never change meaning. */
export enum ExitCode {
  Success = 0,
  /** The command failed; nothing it would have written is left half done. */
  Failure = 1,
  /** The backup completed and its snapshot is saved, but some files could not be read. */
  Warnings = 3,
}

/** The exit codes as `coffer --help` documents them. */
export const EXIT_CODES_HELP = `
Exit codes:
  0  success
  1  failure (the message on stderr says what went wrong)
  3  backup completed with warnings: the snapshot is saved, but some files could not be read`;
