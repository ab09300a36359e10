/** What `coffer-agent` exits with; service managers and scripts rely on these. */
export enum ExitCode {
  Success = 0,
  /** The command failed, or the agent stopped for good (revoked); the message says why. */
  Failure = 1,
  /** The command line was wrong (unknown option, malformed join token…). */
  Usage = 2,
}
