import { Command } from 'commander';
import type { CatalogSnapshotView } from '@coffer/contracts';
import { ExitCode } from '../../shared/exit-codes';
import { formatBytes, formatDuration, formatLocalTime, formatTable, plural } from '../../shared/format';
import { Terminal } from '../../shared/terminal';
import { connect, ControllerOptions, fleetAction, JsonOptions, withControllerOption, withJson } from '../fleet-options';

interface SnapshotsOptions extends ControllerOptions, JsonOptions {
  agent?: string;
  policy?: string;
  repository?: string;
}

/** `coffer snapshots`: the controller's catalog of snapshots across the fleet. */
export function registerSnapshotsCommand(program: Command): void {
  const snapshots = program
    .command('snapshots')
    .description("list the snapshots in the controller's catalog, newest first (coffer repo snapshots reads a repository directly)")
    .option('--agent <name>', 'only snapshots taken by this agent')
    .option('--policy <name>', 'only snapshots of this policy')
    .option('--repository <name>', 'only snapshots in this repository');
  withJson(withControllerOption(snapshots), 'the catalog entries as the API returns them (CatalogSnapshotView[])').action(
    fleetAction(async (options: SnapshotsOptions) => {
      const out = new Terminal(!!options.json);
      const views = await connect(options).listSnapshots({ agent: options.agent, policy: options.policy, repository: options.repository });
      if (out.json) out.printJson(views);
      else out.print(snapshotTable(views));
      return ExitCode.Success;
    }),
  );
}

/** `coffer catalog sync REPO`: rebuild the catalog's view of one repository from its storage. */
export function registerCatalogCommands(program: Command): void {
  const catalog = program.command('catalog').description("the controller's index of snapshots").helpCommand(false);
  const sync = catalog
    .command('sync')
    .description('read the snapshots of a repository from its storage into the catalog: adds missing ones, marks vanished ones gone')
    .argument('<repository>', 'repository name');
  withJson(withControllerOption(sync), 'the outcome as the API returns it (CatalogSyncResult)').action(
    fleetAction(async (repository: string, options: ControllerOptions & JsonOptions) => {
      const out = new Terminal(!!options.json);
      const result = await connect(options).syncCatalog(repository);
      if (out.json) out.printJson(result);
      else out.print(`repository "${result.repository}": ${plural(result.total, 'snapshot')} in storage; ${result.added} added to the catalog, ${result.removed} marked gone`);
      return ExitCode.Success;
    }),
  );
}

function snapshotTable(views: CatalogSnapshotView[]): string {
  if (views.length === 0) return 'no snapshots';
  const rows = views.map((s) => [
    s.shortId,
    formatLocalTime(s.time),
    s.hostname,
    s.policy ?? '-',
    s.sourceKind,
    s.paths.join(', '),
    formatBytes(s.bytesRead),
    formatBytes(s.bytesStored),
    formatDuration(s.durationSeconds * 1000),
    s.status,
  ]);
  return `${formatTable(['ID', 'TIME', 'HOST', 'POLICY', 'SOURCE', 'PATHS', 'SIZE', 'STORED', 'DURATION', 'STATUS'], rows, [6, 7, 8])}${plural(views.length, 'snapshot')}`;
}
