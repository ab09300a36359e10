import { limitKey, selectWithinLimits } from './dispatch-plan';

describe('selectWithinLimits', () => {
  const job = (id: string, agentId: string, policyId: string | null, max: number | null) => ({ id, agentId, policyId, maxJobsPerAgent: max });

  it('honours maxJobsPerAgent per agent and policy, counting jobs already running', () => {
    const candidates = [job('1', 'a', 'p', 1), job('2', 'a', 'p', 1), job('3', 'b', 'p', 1), job('4', 'a', 'q', 2), job('5', 'a', 'q', 2), job('6', 'a', 'q', 2)];
    const active = new Map([[limitKey('a', 'q'), 1]]);
    expect(selectWithinLimits(candidates, active).map((c) => c.id)).toEqual(['1', '3', '4']);
    expect(active.get(limitKey('a', 'q'))).toBe(1); // not modified
  });

  it('does not limit jobs without a policy or limit (restores)', () => {
    const candidates = [job('1', 'a', null, null), job('2', 'a', null, null), job('3', 'a', 'p', null)];
    expect(selectWithinLimits(candidates, new Map()).map((c) => c.id)).toEqual(['1', '2', '3']);
  });
});
