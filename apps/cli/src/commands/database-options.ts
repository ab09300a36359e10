import { Command } from 'commander';
import { BackupOptions, BackupResult, backupStreams, Repository } from '@coffer/repository';
import { DatabaseSource, Hooks, planDatabaseBackup, readPasswordFile, ToolContext } from '@coffer/sources';
import { CliError } from '../shared/cli-error';
import { Terminal } from '../shared/terminal';

/*
 * What `repo backup`, `repo restore` and `repo verify` share for database sources: the
 * password file, the hooks, how tool output reaches the terminal, and how a database backup
 * becomes one snapshot.
 */

/** Options every database-aware command accepts. */
export interface DatabaseAccessOptions {
  dbPasswordFile?: string;
  before?: string[];
  after?: string[];
  hookTimeout?: string;
}

/** Adds --db-password-file and the hook options to a command. */
export function withDatabaseAccessOptions(command: Command, operation: 'backup' | 'restore'): Command {
  return command
    .option('--db-password-file <file>', "the database password, read from this file (never on the command line; without it the client's own files apply: ~/.pgpass, PGPASSFILE, ~/.my.cnf, REDISCLI_AUTH)")
    .option('--before <command>', `run this shell command before the ${operation}; if it fails, the ${operation} does not run (repeatable)`, collectHook)
    .option('--after <command>', `run this shell command after the ${operation}, whether it succeeded or not (COFFER_STATUS tells; repeatable)`, collectHook)
    .option('--hook-timeout <duration>', 'stop a hook that runs longer than this (e.g. 30s, 5m)', '10m');
}

function collectHook(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** The password from --db-password-file, or undefined. */
export function readDatabasePassword(options: DatabaseAccessOptions): string | undefined {
  return options.dbPasswordFile === undefined ? undefined : readPasswordFile(options.dbPasswordFile, '--db-password-file');
}

/** The hooks given with --before / --after; every one fails the operation when it fails. */
export async function hooksFrom(options: DatabaseAccessOptions): Promise<Hooks> {
  // Loaded on demand, as elsewhere in the CLI: @coffer/contracts brings the gRPC loader along.
  const { parseDurationSeconds } = await import('@coffer/contracts');
  const timeoutSeconds = parseDurationSeconds(options.hookTimeout ?? '10m');
  if (!timeoutSeconds) throw new CliError(`--hook-timeout "${options.hookTimeout}" is not a duration such as 30s, 5m or 1h`);
  const hook = (run: string) => ({ run, timeoutSeconds, onFailure: 'fail' as const });
  return { before: (options.before ?? []).map(hook), after: (options.after ?? []).map(hook) };
}

/** Tool and hook output goes to stderr as it comes, so a long dump or restore shows what it does. */
export function toolContext(out: Terminal): ToolContext {
  return { log: (line) => out.log(line) };
}

/**
 * A database backup into one snapshot: the preflight (which fails before anything is
 * written), then the manifest and each dump; no snapshot unless every dump tool exited 0.
 */
export async function backupDatabase(repo: Repository, source: DatabaseSource, context: ToolContext, options: BackupOptions): Promise<BackupResult> {
  const plan = await planDatabaseBackup(source, context);
  try {
    return await backupStreams(repo, plan.files, { sourceKind: plan.kind, paths: plan.paths }, options);
  } finally {
    await plan.dispose();
  }
}
