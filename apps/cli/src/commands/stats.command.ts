import { Command } from 'commander';
import { repositoryStats } from '@coffer/repository';
import { action } from '../shared/action';
import { ExitCode } from '../shared/exit-codes';
import { formatBytes } from '../shared/format';
import { RepositoryOptions, withJsonOption, withRepository, withRepositoryOptions } from '../shared/repository-access';
import { Terminal } from '../shared/terminal';

interface StatsOptions extends RepositoryOptions {
  json?: boolean;
}

/** `coffer repo stats`: how big the repository is and what deduplication and compression save. */
export function registerStatsCommand(repo: Command): void {
  const command = repo.command('stats').description('show the size of the repository and what deduplication and compression save');
  withJsonOption(withRepositoryOptions(command)).action(
    action(async (options: StatsOptions) => {
      const out = new Terminal(!!options.json);
      const s = await withRepository(options, (repository) => repositoryStats(repository));
      if (out.json) {
        out.printJson({
          snapshots: s.snapshots,
          totalFileBytes: s.totalFileBytes,
          uniqueBlobs: s.uniqueBlobs,
          uniqueRawBytes: s.uniqueRawBytes,
          storedBytes: s.storedBytes,
          packs: s.packs,
          compressionRatio: s.compressionRatio,
          dedupRatio: s.dedupRatio,
        });
        return ExitCode.Success;
      }
      const ratio = (r: number) => (r > 0 ? `${r.toFixed(2)}x` : '-');
      const rows: Array<[string, string]> = [
        ['Snapshots', s.snapshots.toLocaleString('en-US')],
        ['Files in all snapshots', formatBytes(s.totalFileBytes)],
        ['Unique data', `${formatBytes(s.uniqueRawBytes)} in ${s.uniqueBlobs.toLocaleString('en-US')} blobs`],
        ['Stored', `${formatBytes(s.storedBytes)} in ${s.packs.toLocaleString('en-US')} packs`],
        ['Deduplication ratio', ratio(s.dedupRatio)],
        ['Compression ratio', ratio(s.compressionRatio)],
      ];
      const width = Math.max(...rows.map(([label]) => label.length)) + 1;
      out.print(rows.map(([label, value]) => `${`${label}:`.padEnd(width)}  ${value}`).join('\n'));
      return ExitCode.Success;
    }),
  );
}
