import type { JobStatus } from '@coffer/contracts';
import { TERMINAL_JOB_STATUSES } from '@coffer/contracts';
import { assertTransition, canTransition, IllegalJobTransitionError, isTerminal, sourcesOf } from './job-state';

const ALL: JobStatus[] = ['queued', 'dispatched', 'running', 'succeeded', 'failed', 'cancelled', 'timed_out', 'missed'];

describe('job state machine', () => {
  it.each([
    ['queued', 'dispatched'],
    ['queued', 'cancelled'],
    ['queued', 'failed'],
    ['dispatched', 'running'],
    ['dispatched', 'succeeded'],
    ['dispatched', 'cancelled'],
    ['dispatched', 'timed_out'],
    ['running', 'succeeded'],
    ['running', 'failed'],
    ['running', 'cancelled'],
    ['running', 'timed_out'],
  ] as [JobStatus, JobStatus][])('allows %s → %s', (from, to) => {
    expect(canTransition(from, to)).toBe(true);
    expect(() => assertTransition(from, to)).not.toThrow();
  });

  it.each([
    ['queued', 'running'],
    ['queued', 'succeeded'],
    ['queued', 'timed_out'],
    ['queued', 'missed'],
    ['running', 'queued'],
    ['running', 'dispatched'],
    ['dispatched', 'queued'],
    ['succeeded', 'failed'],
    ['failed', 'queued'],
    ['cancelled', 'running'],
    ['timed_out', 'succeeded'],
    ['missed', 'queued'],
    ['running', 'running'],
  ] as [JobStatus, JobStatus][])('refuses %s → %s', (from, to) => {
    expect(canTransition(from, to)).toBe(false);
    expect(() => assertTransition(from, to)).toThrow(IllegalJobTransitionError);
  });

  it('treats exactly the contract’s terminal states as terminal', () => {
    expect(ALL.filter(isTerminal).sort()).toEqual([...TERMINAL_JOB_STATUSES].sort());
    for (const terminal of TERMINAL_JOB_STATUSES) {
      for (const to of ALL) expect(canTransition(terminal, to)).toBe(false);
    }
  });

  it('lists the states a transition may start from', () => {
    expect(sourcesOf('running')).toEqual(['dispatched']);
    expect(sourcesOf('cancelled').sort()).toEqual(['dispatched', 'queued', 'running']);
    expect(sourcesOf('timed_out').sort()).toEqual(['dispatched', 'running']);
    expect(sourcesOf('missed')).toEqual([]);
  });
});
