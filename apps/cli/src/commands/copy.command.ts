import { Command } from 'commander';
import { copySnapshots, CopyResult } from '@coffer/repository';
import { readPasswordFile } from '@coffer/sources';
import { action } from '../shared/action';
import { CliError } from '../shared/cli-error';
import { ExitCode } from '../shared/exit-codes';
import { formatBytes, plural, shortId } from '../shared/format';
import { promptHidden } from '../shared/password';
import { withJsonOption, withRepositoryAt } from '../shared/repository-access';
import { snapshotFilter, SnapshotFilterOptions, withSnapshotFilterOptions } from '../shared/snapshot-filter';
import { Terminal } from '../shared/terminal';

interface CopyCommandOptions extends SnapshotFilterOptions {
  from: string;
  to: string;
  fromPasswordFile?: string;
  toPasswordFile?: string;
  json?: boolean;
}

/** `coffer repo copy`: snapshots into a second repository (offsite, 3-2-1). */
export function registerCopyCommand(repo: Command): void {
  const command = repo
    .command('copy')
    .description('copy snapshots to another repository (another place, another password), storing only the data it lacks; run again, it copies only new snapshots')
    .argument('[snapshots...]', 'ids (at least 4 hex digits) of the snapshots to copy (default: every one the filters match)')
    .requiredOption('--from <location>', 'the repository to copy from')
    .requiredOption('--to <location>', 'the repository to copy to (create it first with "coffer repo init")')
    .option('--from-password-file <file>', 'password of the source (default: $COFFER_FROM_PASSWORD_FILE, or a prompt)')
    .option('--to-password-file <file>', 'password of the target (default: $COFFER_TO_PASSWORD_FILE, or a prompt)');
  withJsonOption(withSnapshotFilterOptions(command)).action(
    action(async (ids: string[], options: CopyCommandOptions) => {
      for (const id of ids) if (!/^[0-9a-f]{4,64}$/.test(id)) throw new CliError(`"${id}" is not a snapshot id (give at least 4 hex digits of an id)`);
      const out = new Terminal(!!options.json);
      const fromPassword = () => passwordOf(options.fromPasswordFile, '--from-password-file', 'COFFER_FROM_PASSWORD_FILE', options.from);
      const toPassword = () => passwordOf(options.toPasswordFile, '--to-password-file', 'COFFER_TO_PASSWORD_FILE', options.to);
      const result = await withRepositoryAt(options.from, fromPassword, (from) =>
        withRepositoryAt(options.to, toPassword, (to) =>
          copySnapshots(from, to, {
            filter: snapshotFilter(options, ids),
            onProgress: (p) =>
              out.progress({ activity: 'copying:', count: { done: p.snapshotsDone, total: p.snapshotsTotal, noun: 'snapshots' }, bytesDone: p.bytesCopied }),
          }),
        ),
      );
      out.clearProgress();
      if (out.json) out.printJson(result);
      else out.print(copySummary(result));
      return ExitCode.Success;
    }),
  );
}

/** A repository password from its option, else its environment variable (a file), else a prompt naming the repository. */
async function passwordOf(file: string | undefined, option: string, variable: string, location: string): Promise<string> {
  if (file !== undefined) return readPasswordFile(file, option);
  if (process.env[variable]) return readPasswordFile(process.env[variable]!, variable);
  if (!process.stdin.isTTY) throw new CliError(`no password given for ${location}: use ${option} or ${variable}`);
  return promptHidden(`enter the password of ${location}: `);
}

function copySummary(r: CopyResult): string {
  const lines = r.copied.map((c) => `copied ${shortId(c.source)} as ${shortId(c.target)}`);
  const there = r.alreadyThere.length > 0 ? `, ${plural(r.alreadyThere.length, 'snapshot')} already there` : '';
  if (r.copied.length === 0 && r.alreadyThere.length === 0) return 'no snapshot matches: nothing copied';
  lines.push(`${plural(r.copied.length, 'snapshot')} copied${there}: ${plural(r.blobsCopied, 'blob')} (${formatBytes(r.bytesCopied)}) stored in the target`);
  return lines.join('\n');
}
