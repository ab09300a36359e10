import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { registerBackupCommand } from './commands/backup.command';
import { registerCheckCommand } from './commands/check.command';
import { registerCopyCommand } from './commands/copy.command';
import { registerDiffCommand } from './commands/diff.command';
import { registerDumpCommand } from './commands/dump.command';
import { registerForgetCommand } from './commands/forget.command';
import { registerInitCommand } from './commands/init.command';
import { registerKeyCommand } from './commands/key.command';
import { registerLsCommand } from './commands/ls.command';
import { registerPruneCommand } from './commands/prune.command';
import { registerRestoreCommand } from './commands/restore.command';
import { registerSnapshotsCommand } from './commands/snapshots.command';
import { registerStatsCommand } from './commands/stats.command';
import { registerUnlockCommand } from './commands/unlock.command';
import { registerVerifyCommand } from './commands/verify.command';
import { FLEET_ENVIRONMENT_HELP, registerFleetCommands } from './fleet/fleet.commands';
import { oneLine, reportFailure } from './shared/cli-error';
import { EXIT_CODES_HELP, ExitCode } from './shared/exit-codes';

const ENVIRONMENT_HELP = `
Environment:
  COFFER_REPOSITORY     repository location, when --repo is not given
  COFFER_PASSWORD_FILE  file holding the repository password, when --password-file is not given
  COFFER_PASSWORD       the repository password itself (prefer a file: the environment can leak)
  COFFER_CACHE_DIR      where a write-only key keeps what its next backup compares against (default: ~/.cache/coffer)
  AWS_*, AZURE_*, COFFER_SFTP_*  storage credentials and settings (see docs/storage.md)
  COFFER_DEBUG=1        print stack traces with errors, for bug reports`;

/** The `coffer` command tree. Settings made here before adding commands are inherited by all of them. */
export function buildProgram(): Command {
  const program = new Command('coffer')
    .description('Coffer: encrypted, deduplicated backups')
    .version(packageVersion(), '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .helpCommand(false)
    .exitOverride()
    .showSuggestionAfterError(true)
    // Commander's usage errors become the same single `coffer: …` line as every other failure.
    .configureOutput({ outputError: (text, write) => write(`coffer: ${oneLine(text.replace(/^error: /, ''))}\n`) })
    .addHelpText('after', `${EXIT_CODES_HELP}\n${ENVIRONMENT_HELP}\n${FLEET_ENVIRONMENT_HELP}`);

  registerFleetCommands(program);
  const repo = program
    .command('repo')
    .description('work on a repository directly, on this machine, with no controller')
    .helpCommand(false)
    .addHelpText('after', `${EXIT_CODES_HELP}\n${ENVIRONMENT_HELP}`);
  registerInitCommand(repo);
  registerBackupCommand(repo);
  registerSnapshotsCommand(repo);
  registerLsCommand(repo);
  registerRestoreCommand(repo);
  registerDumpCommand(repo);
  registerDiffCommand(repo);
  registerCheckCommand(repo);
  registerVerifyCommand(repo);
  registerForgetCommand(repo);
  registerPruneCommand(repo);
  registerCopyCommand(repo);
  registerKeyCommand(repo);
  registerStatsCommand(repo);
  registerUnlockCommand(repo);
  return program;
}

/**
 * Runs one command line and returns the exit code. Every failure ends here and is printed
 * as one line; a command's own outcome (0 or 3) is what its action left in process.exitCode.
 */
export async function runProgram(program: Command, argv: string[]): Promise<number> {
  process.exitCode = ExitCode.Success;
  try {
    await program.parseAsync(argv);
    return Number(process.exitCode ?? ExitCode.Success);
  } catch (err) {
    // Commander has already printed its message (or the help / version asked for).
    if (err instanceof CommanderError) return err.exitCode;
    if (process.stderr.isTTY) process.stderr.write('\r\x1b[K'); // a progress line may still be drawn
    reportFailure(err);
    return ExitCode.Failure;
  }
}

function packageVersion(): string {
  try {
    return JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')).version;
  } catch {
    return 'unknown';
  }
}
