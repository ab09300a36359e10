import { parsePolicyDocument, PolicyDocument } from '@coffer/contracts';
import { diffDocuments } from './policy-diff';

function policy(overrides: Record<string, unknown> = {}): PolicyDocument {
  const parsed = parsePolicyDocument({
    name: 'web',
    selector: { role: 'web' },
    repository: 'main',
    sources: [{ files: { paths: ['/var/www'] } }],
    schedules: [{ cron: '0 2 * * *' }],
    ...overrides,
  });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  return parsed.policy;
}

describe('diffDocuments', () => {
  it('finds no change between equal documents, whatever the key order', () => {
    const a = policy();
    const reordered = JSON.parse(JSON.stringify(Object.fromEntries(Object.entries(a).reverse())));
    expect(diffDocuments(a, reordered)).toEqual([]);
  });

  it('names nested changes by dotted path, array elements by index', () => {
    const changes = diffDocuments(policy(), policy({ schedules: [{ cron: '0 3 * * *', timezone: 'Europe/Berlin' }], selector: { role: 'db' } }));
    expect(changes).toEqual([
      { path: 'selector.role', from: 'web', to: 'db' },
      { path: 'schedules.0.cron', from: '0 2 * * *', to: '0 3 * * *' },
      { path: 'schedules.0.timezone', from: 'UTC', to: 'Europe/Berlin' },
    ]);
  });

  it('reports added and removed values with null on the missing side', () => {
    const before = policy({ description: 'old', schedules: [{ cron: '0 2 * * *' }] });
    const after = policy({ retention: { keepDaily: 7 }, schedules: [{ cron: '0 2 * * *' }, { cron: '0 4 * * 0' }] });
    expect(diffDocuments(before, after)).toEqual([
      { path: 'schedules.1', from: null, to: { cron: '0 4 * * 0', timezone: 'UTC' } },
      { path: 'retention', from: null, to: { keepDaily: 7 } },
      { path: 'description', from: 'old', to: null },
    ]);
  });

  it('treats a changed type as one change at that path', () => {
    expect(diffDocuments({ a: [1, 2] }, { a: { b: 1 } })).toEqual([{ path: 'a', from: [1, 2], to: { b: 1 } }]);
    expect(diffDocuments('x', 'y')).toEqual([{ path: '(document)', from: 'x', to: 'y' }]);
  });
});
