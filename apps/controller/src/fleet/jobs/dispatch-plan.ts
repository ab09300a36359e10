/** A queued job the dispatcher may send (the fields the per-agent limit needs). */
export interface DispatchCandidate {
  id: string;
  agentId: string;
  policyId: string | null;
  /** null = no limit. */
  maxJobsPerAgent: number | null;
}

/** Key of the per-agent, per-policy counter. */
export function limitKey(agentId: string, policyId: string): string {
  return `${agentId}/${policyId}`;
}

/**
 * Picks, in the given order (oldest first), the candidates that fit their policy's
 * maxJobsPerAgent given the jobs already dispatched/running (`active`, by limitKey).
 * Pure; `active` is not modified.
 */
export function selectWithinLimits<T extends DispatchCandidate>(candidates: T[], active: ReadonlyMap<string, number>): T[] {
  const counts = new Map(active);
  const chosen: T[] = [];
  for (const candidate of candidates) {
    if (candidate.policyId && candidate.maxJobsPerAgent !== null) {
      const key = limitKey(candidate.agentId, candidate.policyId);
      const count = counts.get(key) ?? 0;
      if (count >= candidate.maxJobsPerAgent) continue;
      counts.set(key, count + 1);
    }
    chosen.push(candidate);
  }
  return chosen;
}
