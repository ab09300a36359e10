import { Command, InvalidArgumentError } from 'commander';
import { forgetSnapshots, parseRetentionDuration, RetentionGroup, RetentionRules } from '@coffer/repository';
import { action } from '../shared/action';
import { CliError } from '../shared/cli-error';
import { ExitCode } from '../shared/exit-codes';
import { formatLocalTime, formatTable, plural, shortId } from '../shared/format';
import { collect, wholeNumber } from '../shared/option-parsers';
import { RepositoryOptions, withJsonOption, withRepository, withRepositoryOptions } from '../shared/repository-access';
import { Terminal } from '../shared/terminal';
import { prune, pruneJson, pruneSummary } from './prune.command';

interface ForgetCommandOptions extends RepositoryOptions, RetentionRules {
  host?: string[];
  dryRun?: boolean;
  prune?: boolean;
  json?: boolean;
}

/** `coffer repo forget`: removes the snapshots no keep rule keeps, group by group. */
export function registerForgetCommand(repo: Command): void {
  const command = repo
    .command('forget')
    .description('remove snapshots that no keep rule keeps; snapshots are grouped by host, source and paths, and the newest of each group always stays')
    .option('--keep-last <n>', 'keep the n newest snapshots', wholeNumber)
    .option('--keep-hourly <n>', 'keep the newest snapshot of each of the last n hours that have one', wholeNumber)
    .option('--keep-daily <n>', 'keep the newest snapshot of each of the last n days that have one', wholeNumber)
    .option('--keep-weekly <n>', 'keep the newest snapshot of each of the last n weeks that have one', wholeNumber)
    .option('--keep-monthly <n>', 'keep the newest snapshot of each of the last n months that have one', wholeNumber)
    .option('--keep-yearly <n>', 'keep the newest snapshot of each of the last n years that have one', wholeNumber)
    .option('--keep-within <duration>', 'keep every snapshot this young relative to the newest of its group, e.g. 30d, 2w, 1y6m, 12h', duration)
    .option('--host <name>', 'only consider snapshots of this host (repeatable)', collect)
    .option('-n, --dry-run', 'only show what would be removed and which rule keeps what stays')
    .option('--prune', 'then delete the data no snapshot references any more');
  withJsonOption(withRepositoryOptions(command)).action(
    action(async (options: ForgetCommandOptions) => {
      const rules: RetentionRules = {
        keepLast: options.keepLast,
        keepHourly: options.keepHourly,
        keepDaily: options.keepDaily,
        keepWeekly: options.keepWeekly,
        keepMonthly: options.keepMonthly,
        keepYearly: options.keepYearly,
        keepWithin: options.keepWithin,
      };
      if (Object.values(rules).every((v) => !v)) {
        throw new CliError('no keep rule given: add at least one of --keep-last, --keep-hourly, --keep-daily, --keep-weekly, --keep-monthly, --keep-yearly, --keep-within');
      }
      const dryRun = !!options.dryRun;
      const out = new Terminal(!!options.json);
      const { forgotten, pruned } = await withRepository(options, async (repository) => {
        const forgotten = await forgetSnapshots(repository, rules, { dryRun, hosts: options.host });
        if (!out.json) printPlan(forgotten.plan.groups, dryRun, !!options.prune, out);
        const pruned = options.prune ? await prune(repository, dryRun, out) : undefined;
        return { forgotten, pruned };
      });
      if (out.json) {
        out.printJson({
          dryRun,
          groups: forgotten.plan.groups.map(groupJson),
          removed: forgotten.removed,
          prune: pruned ? pruneJson(pruned, dryRun) : null,
        });
      } else if (pruned) {
        out.print(pruneSummary(pruned, dryRun));
      }
      return ExitCode.Success;
    }),
  );
}

function duration(value: string): number {
  try {
    return parseRetentionDuration(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

function printPlan(groups: RetentionGroup[], dryRun: boolean, pruning: boolean, out: Terminal): void {
  let removing = 0;
  let total = 0;
  for (const g of groups) {
    out.print(`${g.host}, ${g.sourceKind} ${g.paths.join(', ')}:`);
    const rows = [
      ...g.keep.map((k) => ['keep', shortId(k.snapshot.id), formatLocalTime(k.snapshot.time), k.reasons.join(', ')]),
      ...g.remove.map((s) => [dryRun ? 'would remove' : 'remove', shortId(s.id), formatLocalTime(s.time), '']),
    ].sort((a, b) => b[2].localeCompare(a[2]));
    out.print(indent(formatTable(['Action', 'ID', 'Time', 'Why kept'], rows)));
    removing += g.remove.length;
    total += g.keep.length + g.remove.length;
  }
  if (total === 0) out.print('no snapshots to consider');
  else if (removing === 0) out.print(`nothing to remove: the rules keep all ${plural(total, 'snapshot')}`);
  else if (dryRun) out.print(`would remove ${plural(removing, 'snapshot')} of ${total} (dry run: nothing changed)`);
  else out.print(`removed ${plural(removing, 'snapshot')} of ${total}${pruning ? '' : '; their data stays stored until "coffer repo prune"'}`);
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => (l ? `  ${l}` : l))
    .join('\n');
}

function groupJson(g: RetentionGroup) {
  return {
    host: g.host,
    sourceKind: g.sourceKind,
    paths: g.paths,
    keep: g.keep.map((k) => ({ id: k.snapshot.id, time: k.snapshot.time.toISOString(), reasons: k.reasons })),
    remove: g.remove.map((s) => ({ id: s.id, time: s.time.toISOString() })),
  };
}
