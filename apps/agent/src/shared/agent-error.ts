import { ExitCode } from './exit-codes';

/**
 * A failure the person running the agent can act on. Its message is printed as one line
 * (`coffer-agent: …`), never with a stack trace, and the process exits with `exitCode`.
 */
export class AgentError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode = ExitCode.Failure,
  ) {
    super(message);
    this.name = 'AgentError';
  }
}

/** A wrong command line: exits with 2. */
export class AgentUsageError extends AgentError {
  constructor(message: string) {
    super(message, ExitCode.Usage);
    this.name = 'AgentUsageError';
  }
}

/**
 * Folds a multi-line message into one line ("bad filter patterns:\n  a\n  b" → "bad filter
 * patterns: a; b"), so every log entry and error stays one line.
 */
export function oneLine(message: string): string {
  const lines = message
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  if (lines.length <= 1) return lines[0] ?? '';
  return `${lines[0]} ${lines.slice(1).join('; ')}`;
}
