import { randomBytes } from 'node:crypto';
import { NotFoundError } from '@coffer/storage';
import { openMeta, sealMeta } from '../crypto/envelope';
import type { Repository } from '../repository';

/**
 * Prune's first step: the packs it found unused, written down before anything is deleted
 * (`deletions/<32 hex>`, meta envelope, context "deletions"). While a plan exists:
 * - backups that start read it and do not deduplicate against its packs, so no new snapshot
 *   comes to depend on them;
 * - backups that were running when it was written (`waitFor`, their lock names) may already
 *   depend on them: the packs are deleted only once every one of those has finished or died,
 *   and only those no snapshot then references (prune marks again before deleting).
 */
export interface DeletionPlan {
  /** Object name, `deletions/<32 hex>`. */
  name: string;
  created: string;
  /** Pack ids to delete. */
  packs: string[];
  /** Lock names of the operations that were running when the plan was written. */
  waitFor: string[];
  /**
   * When its packs were deleted (`packs` then lists those actually deleted). The plan stays a
   * while as a tombstone, so that a backup that loaded the index before the deletion, and
   * that prune could not see (a lagging listing), notices at its end and writes no snapshot.
   */
  executed?: string;
}

export const DELETIONS_PREFIX = 'deletions';

/** Stores a new plan and returns it. */
export async function writeDeletionPlan(repo: Repository, packs: string[], waitFor: string[]): Promise<DeletionPlan> {
  const plan: DeletionPlan = { name: `${DELETIONS_PREFIX}/${randomBytes(16).toString('hex')}`, created: new Date().toISOString(), packs, waitFor };
  await saveDeletionPlan(repo, plan);
  return plan;
}

/** Stores a plan under its name, replacing what was there. */
export async function saveDeletionPlan(repo: Repository, plan: DeletionPlan): Promise<void> {
  const { name, ...body } = plan;
  await repo.storage.put(name, sealMeta(repo.master.metaKey, Buffer.from(JSON.stringify(body)), 'deletions'));
}

/** Every plan stored; one deleted meanwhile (by a prune finishing it) is skipped. */
export async function readDeletionPlans(repo: Repository): Promise<DeletionPlan[]> {
  const plans: DeletionPlan[] = [];
  for await (const obj of repo.storage.list(DELETIONS_PREFIX)) {
    let stored: Buffer;
    try {
      stored = await repo.storage.get(obj.name);
    } catch (err) {
      if (err instanceof NotFoundError) continue;
      throw err;
    }
    plans.push({ name: obj.name, ...JSON.parse(openMeta(repo.master.metaKey, stored, 'deletions', obj.name).toString('utf8')) });
  }
  return plans;
}

/** The pack ids of every plan. */
export function doomedPacks(plans: readonly DeletionPlan[]): Set<string> {
  return new Set(plans.flatMap((p) => p.packs));
}
