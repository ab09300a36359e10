import { acquireLock, parseRetentionDuration, planRetention, RetentionCandidate, RetentionRules } from '@coffer/repository';
import type { JobContext } from './job-context';
import type { JobRequest, JobSpec, RetentionSpec } from './job-types';
import { withRepository } from './open-repository';

type ForgetSpec = Extract<JobSpec, { kind: 'forget' }>;

/**
 * FORGET: applies the retention rules to the snapshots of one host carrying one tag (a
 * policy's snapshots), with the planner the CLI's forget uses. Data stays until prune.
 *
 * forgetSnapshots() filters by host only, and applying a policy's rules to another policy's
 * snapshots of the same paths would delete what that policy keeps; so this does what
 * forgetSnapshots does (exclusive lock, plan, delete snapshot objects) over the filtered
 * set. An empty host means this agent's own name; an empty tag, every tag.
 */
export async function runForgetJob(request: JobRequest, spec: ForgetSpec, ctx: JobContext): Promise<void> {
  const rules = retentionRules(spec.retention);
  if (Object.values(rules).every((v) => !v)) throw new Error('the forget job has no keep rule: refusing to forget every snapshot');
  const host = spec.host || ctx.agentName;
  await withRepository(request.repository, ctx, async (repo) => {
    const lock = await acquireLock(repo, 'forget', true);
    try {
      ctx.progress({ phase: 'planning' });
      const candidates: RetentionCandidate[] = (await repo.listSnapshots())
        .filter((r) => r.snapshot.host === host && (!spec.tag || r.snapshot.tags.includes(spec.tag)))
        .map((r) => ({ id: r.id, time: new Date(r.snapshot.time), host: r.snapshot.host, sourceKind: r.snapshot.sourceKind, paths: r.snapshot.paths, tags: r.snapshot.tags }));
      const plan = planRetention(candidates, rules, new Date());
      const doomed = plan.groups.flatMap((g) => g.remove);
      let done = 0;
      for (const s of doomed) {
        ctx.progress({ phase: 'forgetting', filesDone: done, filesTotal: doomed.length });
        await repo.storage.delete(`snapshots/${s.id}`);
        ctx.products.forgottenSnapshotIds.push(s.id);
        done++;
      }
      for (const g of plan.groups) {
        for (const k of g.keep) ctx.log(`keep ${k.snapshot.id.slice(0, 8)} (${k.snapshot.time.toISOString()}): ${k.reasons.join(', ')}`);
        for (const s of g.remove) ctx.log(`removed ${s.id.slice(0, 8)} (${s.time.toISOString()})`);
      }
      ctx.log(`forgot ${doomed.length} of ${candidates.length} snapshot(s) of host ${host}${spec.tag ? ` tagged ${spec.tag}` : ''}; their data stays stored until prune`);
    } finally {
      await lock.release();
    }
  });
}

/** The wire's "0 = not used" rules as the planner takes them. */
function retentionRules(r: RetentionSpec): RetentionRules {
  const count = (n: number) => (n > 0 ? n : undefined);
  let keepWithin: number | undefined;
  if (r.keepWithin.trim() !== '') {
    try {
      keepWithin = parseRetentionDuration(r.keepWithin.trim());
    } catch (err) {
      throw new Error(`keep_within "${r.keepWithin}": ${(err as Error).message}`);
    }
  }
  return {
    keepLast: count(r.keepLast),
    keepHourly: count(r.keepHourly),
    keepDaily: count(r.keepDaily),
    keepWeekly: count(r.keepWeekly),
    keepMonthly: count(r.keepMonthly),
    keepYearly: count(r.keepYearly),
    keepWithin,
  };
}
