import { policyDocumentSchema } from '@coffer/contracts';
import type { StoredPolicy } from '../../shared/fleet-ports';
import type { AgentSummary } from '../agents/agent.types';
import { FakeClock } from '../shared/clock';
import { cursorKey } from './schedule-state.store';
import { pruneScheduleKey, scheduleKey } from './schedule-plan';
import { planSchedules, planTick } from './scheduler-tick';

function policy(overrides: Record<string, unknown> = {}, updatedAt = new Date('2025-01-01T00:00:00Z')): StoredPolicy {
  const document = policyDocumentSchema.parse({
    name: 'web',
    selector: { role: 'web' },
    repository: 'main',
    sources: [{ files: { paths: ['/srv'] } }],
    schedules: [{ cron: '0 * * * *' }],
    startDeadline: '30m',
    retries: { max: 2, backoff: '1m' },
    ...overrides,
  });
  return { id: '11111111-1111-4111-8111-111111111111', name: document.name, document, createdAt: updatedAt, updatedAt };
}

function agent(name: string, labels: Record<string, string>, status: AgentSummary['status'] = 'online'): AgentSummary {
  return { id: `00000000-0000-4000-8000-${name.padStart(12, '0').slice(-12)}`, name, labels, status };
}

const AGENTS = [agent('web-1', { role: 'web' }), agent('web-2', { role: 'web' }, 'offline'), agent('db-1', { role: 'db' })];

describe('planTick', () => {
  const clock = new FakeClock(new Date('2025-03-01T09:45:00Z'));
  const base = (input: Partial<Parameters<typeof planTick>[0]>): Parameters<typeof planTick>[0] => ({
    policies: [policy()],
    agents: AGENTS,
    cursors: new Map(),
    now: clock.now(),
    processStartedAt: new Date('2025-03-01T00:00:00Z'),
    changeGraceMs: 5000,
    ...input,
  });
  const key = scheduleKey(0, { cron: '0 * * * *', timezone: 'UTC' });

  it('remembers a new schedule without running it', () => {
    const out = planTick(base({}));
    expect(out.drafts).toEqual([]);
    expect(out.cursors).toEqual([{ policyId: policy().id, scheduleKey: key, lastFiredAt: clock.now() }]);
  });

  it('creates one job per matching agent (online or not) for a due fire time, scheduled for that time', () => {
    const p = policy();
    const out = planTick(
      base({ now: new Date('2025-03-01T10:00:02Z'), cursors: new Map([[cursorKey(p.id, key), new Date('2025-03-01T09:45:00Z')]]) }),
    );
    expect(out.drafts.map((d) => [d.agentId.slice(-5), d.kind, d.status, d.trigger, d.scheduledFor.toISOString(), d.late])).toEqual([
      ['web-1', 'backup', 'queued', 'schedule', '2025-03-01T10:00:00.000Z', false],
      ['web-2', 'backup', 'queued', 'schedule', '2025-03-01T10:00:00.000Z', false],
    ]);
    expect(out.drafts[0]).toMatchObject({ scheduleKey: key, maxAttempts: 3, retryBackoffSeconds: 60, startDeadlineSeconds: 1800, policyName: 'web' });
    expect(out.cursors[0].lastFiredAt.toISOString()).toBe('2025-03-01T10:00:00.000Z');
  });

  it('marks runs caught up after a restart late and records older ones as missed', () => {
    const p = policy();
    const restart = new Date('2025-03-01T12:10:00Z');
    const out = planTick(
      base({ now: new Date('2025-03-01T12:10:05Z'), processStartedAt: restart, cursors: new Map([[cursorKey(p.id, key), new Date('2025-03-01T09:30:00Z')]]) }),
    );
    const summary = out.drafts.map((d) => `${d.agentId.slice(-5)} ${d.status} ${d.scheduledFor.toISOString().slice(11, 16)} ${d.late ? 'late' : ''}`.trim());
    expect(summary).toEqual([
      'web-1 queued 12:00 late',
      'web-2 queued 12:00 late',
      'web-1 missed 10:00',
      'web-2 missed 10:00',
      'web-1 missed 11:00',
      'web-2 missed 11:00',
    ]);
    expect(out.drafts.find((d) => d.status === 'missed')?.reason).toMatch(/^missed: the controller was not running/);
    expect(out.notes.some((n) => n.level === 'warn' && /2 scheduled run\(s\) missed/.test(n.message))).toBe(true);
  });

  it('does not replay runs from before the policy last changed (disabled, then enabled)', () => {
    const p = policy({}, new Date('2025-03-01T11:59:00Z'));
    const out = planTick(
      base({ policies: [p], now: new Date('2025-03-01T12:00:01Z'), cursors: new Map([[cursorKey(p.id, key), new Date('2025-03-01T06:00:00Z')]]) }),
    );
    expect(out.drafts.map((d) => [d.status, d.scheduledFor.toISOString()])).toEqual([
      ['queued', '2025-03-01T12:00:00.000Z'],
      ['queued', '2025-03-01T12:00:00.000Z'],
    ]);
  });

  it('prunes on one online matching agent', () => {
    const prune = { cron: '30 9 * * *', timezone: 'UTC' };
    const p = policy({ prune });
    const out = planTick(
      base({
        policies: [p],
        now: new Date('2025-03-01T09:30:01Z'),
        agents: [agent('web-0', { role: 'web' }, 'offline'), ...AGENTS],
        cursors: new Map([[cursorKey(p.id, pruneScheduleKey(prune)), new Date('2025-03-01T09:00:00Z')]]),
      }),
    );
    expect(out.drafts).toHaveLength(1);
    expect(out.drafts[0]).toMatchObject({ kind: 'prune', trigger: 'prune', spec: { kind: 'prune' }, maxAttempts: 1 });
    expect(out.drafts[0].agentId.endsWith('web-1')).toBe(true);
  });

  it('needs no agents when nothing is due', () => {
    const p = policy();
    const decisions = planSchedules(base({ now: new Date('2025-03-01T09:50:00Z'), cursors: new Map([[cursorKey(p.id, key), new Date('2025-03-01T09:45:00Z')]]) }));
    expect(decisions).toEqual({ due: [], cursors: [] });
  });

  it('says so when a due policy selects no agent', () => {
    const p = policy({ selector: { role: 'nobody' } });
    const out = planTick(base({ policies: [p], now: new Date('2025-03-01T10:00:01Z'), cursors: new Map([[cursorKey(p.id, key), new Date('2025-03-01T09:45:00Z')]]) }));
    expect(out.drafts).toEqual([]);
    expect(out.notes[0]).toMatchObject({ level: 'warn' });
    expect(out.cursors).toHaveLength(1);
  });
});
