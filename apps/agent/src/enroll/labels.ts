import { labelsSchema } from '@coffer/contracts';
import { AgentUsageError } from '../shared/agent-error';

/**
 * Parses `--labels role=db,team/app=billing` into a map. Keys and values follow the fleet's
 * one label schema (labelsSchema in @coffer/contracts), so what the agent asks for is what a
 * policy selector can match. An empty string means no labels; a value may contain "=".
 * Throws AgentUsageError naming every problem.
 */
export function parseLabels(text: string | undefined): Record<string, string> {
  const labels: Record<string, string> = {};
  if (text === undefined || text.trim() === '') return labels;
  const problems: string[] = [];
  for (const raw of text.split(',')) {
    const pair = raw.trim();
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    if (eq <= 0) {
      problems.push(`"${pair}" is not key=value`);
      continue;
    }
    const key = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    if (key in labels && labels[key] !== value) problems.push(`label "${key}" is given twice`);
    labels[key] = value;
  }
  const checked = labelsSchema.safeParse(labels);
  if (!checked.success) {
    for (const issue of checked.error.issues) {
      const key = issue.path.length > 0 ? String(issue.path[0]) : '';
      // A bad key is reported as "Invalid key in record" with the schema's own words nested.
      const nested = (issue as { issues?: Array<{ message: string }> }).issues;
      const message = nested && nested.length > 0 ? nested.map((n) => n.message).join(', ') : issue.message;
      problems.push(key ? `label "${key}": ${message}` : message);
    }
  }
  if (problems.length > 0) throw new AgentUsageError(`bad --labels: ${problems.join('; ')}`);
  return labels;
}
