import type { ApplyPolicyResult, FieldProblem, PolicyChange } from '@coffer/contracts';

/** `policy "web" updated` and, for an update, one line per change. */
export function formatApplyResult(result: ApplyPolicyResult): string {
  const lines = [`policy "${result.policy.name}" ${result.result}`];
  // A new policy's "changes" would be the whole document: the name says enough.
  if (result.result === 'updated') lines.push(...result.changes.map(formatChange));
  return lines.join('\n');
}

/** `  schedules.0.cron: "0 2 * * *" → "0 3 * * *"`. */
export function formatChange(change: PolicyChange): string {
  return `  ${change.path}: ${formatValue(change.from)} → ${formatValue(change.to)}`;
}

/** A value as it appears in a change: JSON, compact; a field that was or is absent shows as (unset). */
export function formatValue(value: unknown): string {
  if (value === undefined || value === null) return '(unset)';
  return JSON.stringify(value);
}

/** `policy "web" is invalid:` and one `  PATH: REASON` line per problem. */
export function formatProblems(subject: string, problems: FieldProblem[]): string {
  return [`${subject} is invalid:`, ...problems.map((p) => `  ${p.path}: ${p.reason}`)].join('\n');
}

/** How messages name a document: `policy "web"` when it has a usable name, else where it is. */
export function policySubject(document: unknown, origin: string): string {
  const name = typeof document === 'object' && document !== null ? (document as { name?: unknown }).name : undefined;
  return typeof name === 'string' && name.trim() !== '' ? `policy "${name}"` : `the policy in ${origin}`;
}
