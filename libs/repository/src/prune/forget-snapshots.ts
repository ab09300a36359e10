import { hasAnyRule, planRetention, RetentionPlan, RetentionRules } from '../forget/retention-planner';
import { UsageError } from '../errors';
import { acquireLock } from '../locks';
import type { Repository } from '../repository';

/** Options of forget. */
export interface ForgetOptions {
  dryRun?: boolean;
  /** Only consider snapshots of these hosts. */
  hosts?: string[];
  now?: Date;
  timeZone?: string;
}

/** The plan, and the snapshot ids actually removed (none in a dry run). */
export interface ForgetResult {
  plan: RetentionPlan;
  removed: string[];
}

/** Removes the snapshots the keep rules do not keep. Data stays until prune. */
export async function forgetSnapshots(repo: Repository, rules: RetentionRules, options: ForgetOptions = {}): Promise<ForgetResult> {
  if (!hasAnyRule(rules)) throw new UsageError('no keep rule given: refusing to forget every snapshot (use --keep-last, --keep-daily, …)');
  const lock = options.dryRun ? undefined : await acquireLock(repo, 'forget', true);
  try {
    const all = (await repo.listSnapshots()).filter((r) => !options.hosts?.length || options.hosts.includes(r.snapshot.host));
    const plan = planRetention(
      all.map((r) => ({ id: r.id, time: new Date(r.snapshot.time), host: r.snapshot.host, sourceKind: r.snapshot.sourceKind, paths: r.snapshot.paths, tags: r.snapshot.tags })),
      rules,
      options.now ?? new Date(),
      options.timeZone,
    );
    const removed: string[] = [];
    if (!options.dryRun) {
      for (const group of plan.groups) {
        for (const s of group.remove) {
          await repo.storage.delete(`snapshots/${s.id}`);
          removed.push(s.id);
        }
      }
    }
    return { plan, removed };
  } finally {
    await lock?.release();
  }
}
