import { Command } from 'commander';
import { checkRepository } from '@coffer/repository';
import { action } from '../shared/action';
import { CliError } from '../shared/cli-error';
import { ExitCode } from '../shared/exit-codes';
import { formatBytes, plural } from '../shared/format';
import { percentage } from '../shared/option-parsers';
import { RepositoryOptions, withJsonOption, withRepository, withRepositoryOptions } from '../shared/repository-access';
import { Terminal } from '../shared/terminal';

interface CheckCommandOptions extends RepositoryOptions {
  readData?: boolean;
  readDataSubset?: number;
  json?: boolean;
}

/** `coffer repo check`: every structure decrypts and every reference resolves; optionally re-hash the data. */
export function registerCheckCommand(repo: Command): void {
  const command = repo
    .command('check')
    .description('verify the repository: keys, indexes and every snapshot decrypt, and every reference resolves')
    .option('--read-data', 'also read, decrypt and re-hash every stored chunk')
    .option('--read-data-subset <percent>', 'also read and re-hash this share of the stored data, e.g. 10 or 2.5%', percentage);
  withJsonOption(withRepositoryOptions(command)).action(
    action(async (options: CheckCommandOptions) => {
      if (options.readData && options.readDataSubset !== undefined) throw new CliError('--read-data and --read-data-subset contradict each other: give one of them');
      const readDataPercent = options.readData ? 100 : (options.readDataSubset ?? 0);
      const out = new Terminal(!!options.json);
      const result = await withRepository(options, (repository) =>
        checkRepository(repository, {
          readDataPercent,
          onProgress: (p) => out.progress({ activity: 'reading data:', count: { done: p.packsRead, total: p.packsToRead, noun: 'packs' }, bytesDone: p.bytesRead }),
        }),
      );
      out.clearProgress();
      if (out.json) {
        out.printJson({
          ok: result.errors.length === 0,
          errors: result.errors,
          notes: result.notes,
          snapshots: result.snapshots,
          trees: result.trees,
          packs: result.packs,
          packsRead: result.packsRead,
          bytesRead: result.bytesRead,
          readDataPercent,
        });
      } else {
        for (const note of result.notes) out.note(note);
        for (const error of result.errors) out.problem(error);
        const read = readDataPercent > 0 ? `, read ${plural(result.packsRead, 'pack')} (${formatBytes(result.bytesRead)})` : '';
        out.print(`checked ${plural(result.snapshots, 'snapshot')}, ${plural(result.trees, 'tree')}, ${plural(result.packs, 'pack')}${read}: ${result.errors.length === 0 ? 'no errors found' : plural(result.errors.length, 'error') + ' found'}`);
      }
      if (result.errors.length > 0) throw new CliError(`the repository has ${plural(result.errors.length, 'error')}${out.json ? ' (listed in the JSON output)' : ' (listed above)'}`);
      return ExitCode.Success;
    }),
  );
}
