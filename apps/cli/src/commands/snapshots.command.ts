import { resolve } from 'node:path';
import { Command } from 'commander';
import type { SnapshotRef } from '@coffer/repository';
import { action } from '../shared/action';
import { ExitCode } from '../shared/exit-codes';
import { formatBytes, formatLocalTime, formatTable, plural, shortId } from '../shared/format';
import { collect } from '../shared/option-parsers';
import { RepositoryOptions, withJsonOption, withRepository, withRepositoryOptions } from '../shared/repository-access';
import { snapshotJson } from '../shared/snapshot-json';
import { Terminal } from '../shared/terminal';

interface SnapshotsOptions extends RepositoryOptions {
  host?: string[];
  tag?: string[];
  path?: string[];
  json?: boolean;
}

/** `coffer repo snapshots`: the snapshots in the repository, oldest first. */
export function registerSnapshotsCommand(repo: Command): void {
  const command = repo
    .command('snapshots')
    .description('list the snapshots in the repository, oldest first')
    .option('--host <name>', 'only snapshots of this host (repeatable: any of them)', collect)
    .option('--tag <tag>', 'only snapshots carrying this tag (repeatable: all of them)', collect)
    .option('--path <path>', 'only snapshots that include this path (repeatable: all of them)', collect);
  withJsonOption(withRepositoryOptions(command)).action(
    action(async (options: SnapshotsOptions) => {
      const out = new Terminal(!!options.json);
      const refs = await withRepository(options, (repository) => repository.listSnapshots());
      const hosts = options.host ?? [];
      const tags = options.tag ?? [];
      const paths = (options.path ?? []).map((p) => resolve(p));
      const shown = refs.filter(
        ({ snapshot: s }) =>
          (hosts.length === 0 || hosts.includes(s.host)) &&
          tags.every((t) => s.tags.includes(t)) &&
          paths.every((p) => s.paths.includes(p)),
      );
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
