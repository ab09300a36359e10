import type { ApplyPolicyResult, PolicyView } from '@coffer/contracts';
import { formatApplyResult, formatChange, formatProblems, formatValue, policySubject } from './apply-report';

const policy = { name: 'web' } as PolicyView;

describe('formatApplyResult', () => {
  it('prints one line for a created or unchanged policy', () => {
    const created: ApplyPolicyResult = { result: 'created', changes: [{ path: 'name', from: undefined, to: 'web' }], policy };
    expect(formatApplyResult(created)).toBe('policy "web" created');
    expect(formatApplyResult({ result: 'unchanged', changes: [], policy })).toBe('policy "web" unchanged');
  });

  it('lists the changes of an update, one per line, in the order given', () => {
    const updated: ApplyPolicyResult = {
      result: 'updated',
      changes: [
        { path: 'schedules.0.cron', from: '0 2 * * *', to: '0 3 * * *' },
        { path: 'retention.keepDaily', from: 7, to: 14 },
        { path: 'description', from: undefined, to: 'web files' },
        { path: 'prune', from: { cron: '0 4 * * 0', timezone: 'UTC' }, to: null },
      ],
      policy,
    };
    expect(formatApplyResult(updated)).toBe(
      [
        'policy "web" updated',
        '  schedules.0.cron: "0 2 * * *" → "0 3 * * *"',
        '  retention.keepDaily: 7 → 14',
        '  description: (unset) → "web files"',
        '  prune: {"cron":"0 4 * * 0","timezone":"UTC"} → (unset)',
      ].join('\n'),
    );
  });
});

describe('formatChange and formatValue', () => {
  it('quotes strings as JSON does, so spaces and quotes stay visible', () => {
    expect(formatValue('say "hi" ')).toBe('"say \\"hi\\" "');
    expect(formatValue(false)).toBe('false');
    expect(formatValue(['a', 'b'])).toBe('["a","b"]');
    expect(formatChange({ path: 'enabled', from: true, to: false })).toBe('  enabled: true → false');
  });
});

describe('formatProblems', () => {
  it('prints the subject, then one PATH: REASON line per problem', () => {
    expect(
      formatProblems('policy "web"', [
        { path: 'schedules.0.cron', reason: 'must be a cron expression of 5 fields (minute hour day month weekday) or 6 (with seconds first)' },
        { path: 'repository', reason: 'is required' },
      ]),
    ).toBe(
      [
        'policy "web" is invalid:',
        '  schedules.0.cron: must be a cron expression of 5 fields (minute hour day month weekday) or 6 (with seconds first)',
        '  repository: is required',
      ].join('\n'),
    );
  });

  it('names a document without a usable name by where it is', () => {
    expect(policySubject({ name: 'web' }, 'a.yaml')).toBe('policy "web"');
    expect(policySubject({ repository: 'main' }, 'a.yaml document 2')).toBe('the policy in a.yaml document 2');
    expect(policySubject({ name: 42 }, 'a.yaml')).toBe('the policy in a.yaml');
    expect(policySubject('just text', 'a.yaml')).toBe('the policy in a.yaml');
  });

  it('formats the problems the contracts find in a real document', async () => {
    const { parsePolicyDocument } = await import('@coffer/contracts');
    const parsed = parsePolicyDocument({ name: 'web', selector: {}, repository: 'main', sources: [{ files: { paths: ['/srv'] } }], schedules: [{ cron: '0 2 * *' }] });
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(formatProblems('policy "web"', parsed.problems)).toBe(
      'policy "web" is invalid:\n  schedules.0.cron: must be a cron expression of 5 fields (minute hour day month weekday) or 6 (with seconds first)',
    );
  });
});
