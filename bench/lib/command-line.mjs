// Command-line parsing shared by the benchmark scripts.
import { parseArgs } from 'node:util';

/** A bad command line: the scripts print the message with their usage and exit 2. */
export class UsageError extends Error {}

/**
 * Strict parseArgs over `options` plus -h/--help, which prints `usage` and exits 0; an
 * unknown or malformed option becomes a UsageError. Returns the parsed values.
 */
export function parseCommandLine(options, usage) {
  let values;
  try {
    ({ values } = parseArgs({ options: { ...options, help: { type: 'boolean', short: 'h', default: false } }, strict: true }));
  } catch (e) {
    throw new UsageError(e.message);
  }
  if (values.help) {
    process.stdout.write(usage);
    process.exit(0);
  }
  return values;
}
