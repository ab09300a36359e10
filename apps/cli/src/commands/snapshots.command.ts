import { Command } from 'commander';
import type { SnapshotRef } from '@coffer/repository';
import { action } from '../shared/action';
import { ExitCode } from '../shared/exit-codes';
import { formatBytes, formatLocalTime, formatTable, plural, shortId } from '../shared/format';
import { RepositoryOptions, withJsonOption, withRepository, withRepositoryOptions } from '../shared/repository-access';
import { snapshotFilter, SnapshotFilterOptions, withSnapshotFilterOptions } from '../shared/snapshot-filter';
import { snapshotJson } from '../shared/snapshot-json';
import { Terminal } from '../shared/terminal';

interface SnapshotsOptions extends RepositoryOptions, SnapshotFilterOptions {
  json?: boolean;
}

/** `coffer repo snapshots`: the snapshots in the repository, oldest first. */
export function registerSnapshotsCommand(repo: Command): void {
  const command = withSnapshotFilterOptions(repo.command('snapshots').description('list the snapshots in the repository, oldest first'));
  withJsonOption(withRepositoryOptions(command)).action(
    action(async (options: SnapshotsOptions) => {
      const out = new Terminal(!!options.json);
      const refs = await withRepository(options, (repository) => repository.listSnapshots());
      const shown = refs.filter(snapshotFilter(options));
      if (out.json) out.printJson(shown.map(snapshotJson));
      else out.print(snapshotTable(shown, refs.length));
      return ExitCode.Success;
    }),
  );
}

function snapshotTable(refs: SnapshotRef[], total: number): string {
  const filtered = refs.length === total ? '' : ` (of ${total})`;
  if (refs.length === 0) return `no snapshots${filtered}`;
  const rows = refs.map(({ id, snapshot: s }) => [
    shortId(id),
    formatLocalTime(s.time),
    s.host,
    s.tags.join(','),
    s.paths.join(', '),
    formatBytes(s.stats.totalBytes),
  ]);
  return `${formatTable(['ID', 'Time', 'Host', 'Tags', 'Paths', 'Size'], rows, [5])}${plural(refs.length, 'snapshot')}${filtered}`;
}
