import { Command } from 'commander';
import { diffSnapshots, SnapshotDifference } from '@coffer/repository';
import { action } from '../shared/action';
import { ExitCode } from '../shared/exit-codes';
import { shortId } from '../shared/format';
import { RepositoryOptions, withJsonOption, withRepository, withRepositoryOptions } from '../shared/repository-access';
import { Terminal } from '../shared/terminal';

interface DiffOptions extends RepositoryOptions {
  json?: boolean;
}

const WORDS: Record<SnapshotDifference['change'], string> = { '+': 'added', '-': 'removed', M: 'modified', T: 'typeChanged' };

/** `coffer repo diff`: what changed between two snapshots. */
export function registerDiffCommand(repo: Command): void {
  const command = repo
    .command('diff')
    .description('show what changed between two snapshots: + added, - removed, M modified, T type changed')
    .argument('<snapshot-a>', 'the older snapshot (id or "latest")')
    .argument('<snapshot-b>', 'the newer snapshot (id or "latest")');
  withJsonOption(withRepositoryOptions(command)).action(
    action(async (refA: string, refB: string, options: DiffOptions) => {
      const out = new Terminal(!!options.json);
      const counts = { added: 0, removed: 0, modified: 0, typeChanged: 0 };
      const changes: SnapshotDifference[] = [];
      const [a, b] = await withRepository(options, async (repository) => {
        const a = await repository.findSnapshot(refA);
        const b = await repository.findSnapshot(refB);
        for await (const d of diffSnapshots(repository, a.snapshot, b.snapshot)) {
          counts[WORDS[d.change] as keyof typeof counts]++;
          if (out.json) changes.push({ change: d.change, path: d.path });
          else out.print(`${d.change}  ${d.path}`);
        }
        return [a, b];
      });
      if (out.json) {
        out.printJson({ from: a.id, to: b.id, changes, summary: counts });
      } else {
        const total = counts.added + counts.removed + counts.modified + counts.typeChanged;
        out.print(
          total === 0
            ? `no differences between ${shortId(a.id)} and ${shortId(b.id)}`
            : `${shortId(a.id)} → ${shortId(b.id)}: ${counts.added} added, ${counts.removed} removed, ${counts.modified} modified, ${counts.typeChanged} changed type`,
        );
      }
      return ExitCode.Success;
    }),
  );
}
