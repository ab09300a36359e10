import type { PolicyChange } from '@coffer/contracts';

/**
 * What changed between two policy documents, as dotted paths ("schedules.0.cron") with old
 * and new values. Objects are compared key by key and arrays index by index; a value that
 * appears or disappears is one change with `null` on the missing side. Keys are visited in
 * the new document's order, then the removed ones.
 */
export function diffDocuments(before: unknown, after: unknown): PolicyChange[] {
  const changes: PolicyChange[] = [];
  collect(before, after, [], changes);
  return changes;
}

function collect(before: unknown, after: unknown, path: string[], changes: PolicyChange[]): void {
  if (isPlainObject(before) && isPlainObject(after)) {
    const keys = [...Object.keys(after), ...Object.keys(before).filter((key) => !(key in after))];
    for (const key of keys) collect(before[key], after[key], [...path, key], changes);
    return;
  }
  if (Array.isArray(before) && Array.isArray(after)) {
    for (let i = 0; i < Math.max(before.length, after.length); i++) collect(before[i], after[i], [...path, String(i)], changes);
    return;
  }
  if (!deepEqual(before, after)) {
    changes.push({ path: path.length === 0 ? '(document)' : path.join('.'), from: before ?? null, to: after ?? null });
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Structural equality of JSON values (key order does not matter; undefined equals absent). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((item, i) => deepEqual(item, b[i]));
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const key of keys) if (!deepEqual(a[key], b[key])) return false;
    return true;
  }
  return false;
}
