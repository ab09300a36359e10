import { oneLine } from './agent-error';

/** Where the agent's events go. Messages must never carry secrets (passwords, tokens, keys). */
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/**
 * One line per event on stderr: `2025-01-31T12:00:00.000Z INFO message`. Service managers
 * (journald, Docker) collect stderr, and one line per event keeps every event greppable.
 */
export function createLogger(write: (line: string) => void = (line) => process.stderr.write(line), now: () => Date = () => new Date()): Logger {
  const log = (level: string, message: string) => write(`${now().toISOString()} ${level} ${oneLine(message)}\n`);
  return {
    info: (message) => log('INFO', message),
    warn: (message) => log('WARN', message),
    error: (message) => log('ERROR', message),
  };
}
