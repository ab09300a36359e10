/** The bytes to back up with `--stdin`: the process's standard input, unread. */
export function stdinSource(): NodeJS.ReadableStream {
  return process.stdin;
}

/**
 * Fails early when `--stdin` was given but standard input is a terminal, where the backup would
 * otherwise sit waiting for someone to type the data.
 */
export function assertStdinIsNotTerminal(): void {
  if (process.stdin.isTTY) {
    throw new Error('--stdin needs data on standard input (it is a terminal)');
  }
}
