import { Command } from 'commander';
import { pruneRepository, PruneResult, Repository } from '@coffer/repository';
import { action } from '../shared/action';
import { ExitCode } from '../shared/exit-codes';
import { formatBytes, plural } from '../shared/format';
import { RepositoryOptions, withJsonOption, withRepository, withRepositoryOptions } from '../shared/repository-access';
import { Terminal } from '../shared/terminal';

interface PruneCommandOptions extends RepositoryOptions {
  dryRun?: boolean;
  json?: boolean;
}

/** `coffer repo prune`: deletes stored data that no snapshot references. */
export function registerPruneCommand(repo: Command): void {
  const command = repo
    .command('prune')
    .description('delete stored data that no snapshot references any more (after forget)')
    .option('-n, --dry-run', 'only show what would be deleted');
  withJsonOption(withRepositoryOptions(command)).action(
    action(async (options: PruneCommandOptions) => {
      const out = new Terminal(!!options.json);
      const result = await withRepository(options, (repository) => prune(repository, !!options.dryRun, out));
      if (out.json) out.printJson(pruneJson(result, !!options.dryRun));
      else out.print(pruneSummary(result, !!options.dryRun));
      return ExitCode.Success;
    }),
  );
}

/** Runs prune with a progress line; shared with `forget --prune`. */
export async function prune(repository: Repository, dryRun: boolean, out: Terminal): Promise<PruneResult> {
  const result = await pruneRepository(repository, {
    dryRun,
    onProgress: (p) => out.progress({ activity: `${p.phase}:`, count: { done: p.done, total: p.total, noun: p.phase.includes('pack') ? 'packs' : 'snapshots' } }),
  });
  out.clearProgress();
  return result;
}

/** prune's --json document (also nested in forget --prune's). */
export function pruneJson(r: PruneResult, dryRun: boolean) {
  return {
    dryRun,
    packsDeleted: r.packsDeleted,
    packsRewritten: r.packsRewritten,
    blobsRemoved: r.blobsRemoved,
    bytesFreed: r.bytesFreed,
    indexesRewritten: r.indexesRewritten,
    packsPending: r.packsPending,
    bytesPending: r.bytesPending,
    waitingFor: r.waitingFor,
  };
}

/** What prune did (or would do), in a sentence. */
export function pruneSummary(r: PruneResult, dryRun: boolean): string {
  const pending =
    r.packsPending === 0
      ? ''
      : `\n${plural(r.packsPending, 'pack')} (${formatBytes(r.bytesPending)}) marked for deletion wait for ${r.waitingFor.length > 0 ? r.waitingFor.join(', ') : 'running operations'} to end: run prune again afterwards to delete them`;
  if (r.packsDeleted === 0 && r.packsRewritten === 0 && r.blobsRemoved === 0) return `nothing to prune: all stored data is used by a snapshot${pending}`;
  const blobs = plural(r.blobsRemoved, 'unused blob');
  if (dryRun) {
    return `would delete ${plural(r.packsDeleted, 'pack')} and rewrite ${plural(r.packsRewritten, 'pack')}, removing ${blobs} and freeing ${formatBytes(r.bytesFreed)} (dry run: nothing changed)${pending}`;
  }
  return `deleted ${plural(r.packsDeleted, 'pack')}, rewrote ${plural(r.packsRewritten, 'pack')} and ${plural(r.indexesRewritten, 'index', 'indexes')}: removed ${blobs}, freed ${formatBytes(r.bytesFreed)}${pending}`;
}
