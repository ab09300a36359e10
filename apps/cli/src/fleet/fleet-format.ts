import { InvalidArgumentError } from 'commander';
import type { AgentHealthView, JobView } from '@coffer/contracts';
import { formatBytes, formatDuration, shortId } from '../shared/format';

/** "12s ago", "5m ago", "3h ago", "2d ago"; "in 5m" for a time ahead; "never" for null. */
export function relativeTime(time: string | null | undefined, now: number = Date.now()): string {
  if (!time) return 'never';
  const at = Date.parse(time);
  if (Number.isNaN(at)) return time;
  const ms = now - at;
  if (Math.abs(ms) < 1000) return 'just now';
  const span = formatSpan(Math.abs(ms) / 1000);
  return ms >= 0 ? `${span} ago` : `in ${span}`;
}

/** A span in its largest unit, rounded: 12 → "12s", 3599 → "1h", 200_000 → "2d". */
export function formatSpan(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.round(s / 3600);
  if (h < 48) return `${h}h`;
  return `${Math.round(s / 86400)}d`;
}

/** {role: "web", env: "prod"} → "env=prod,role=web" (sorted, so rows compare at a glance). */
export function formatLabels(labels: Record<string, string>): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join(',');
}

/** `--labels role=web,env=prod` (repeatable): key=value pairs separated by commas. */
export function parseLabels(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const labels = { ...previous };
  for (const pair of value.split(',')) {
    const trimmed = pair.trim();
    if (trimmed === '') continue;
    const eq = trimmed.indexOf('=');
    if (eq <= 0) throw new InvalidArgumentError(`"${trimmed}" is not key=value: give labels like role=web,env=prod.`);
    labels[trimmed.slice(0, eq).trim()] = trimmed.slice(eq + 1).trim();
  }
  return labels;
}

/** A one-glance summary for the agents table: "load 0.52, mem 41%, 12.0 GiB free". */
export function healthSummary(health: AgentHealthView | null): string {
  if (!health) return '-';
  const parts: string[] = [];
  if (health.loadAverage.length > 0) parts.push(`load ${health.loadAverage[0].toFixed(2)}`);
  if (health.memoryTotalBytes > 0) parts.push(`mem ${Math.round((1 - health.memoryAvailableBytes / health.memoryTotalBytes) * 100)}%`);
  // The fullest disk is the one that will stop backups (or the host) first.
  const tightest = [...health.disks].sort((a, b) => a.freeBytes - b.freeBytes)[0];
  if (tightest) parts.push(`${formatBytes(tightest.freeBytes)} free`);
  return parts.join(', ') || '-';
}

/** "backup of policy "web" on db1", "restore on db1": what a job is, for one-line reports. */
export function describeJob(job: JobView): string {
  const what = job.policy ? `${job.kind} of policy "${job.policy}"` : job.kind;
  return `job ${shortId(job.id)} (${what} on ${job.agent})`;
}

/** How long a job ran, from start to finish (or to now while it runs); "" before it started. */
export function jobDuration(job: JobView, now: number = Date.now()): string {
  if (!job.startedAt) return '';
  const end = job.finishedAt ? Date.parse(job.finishedAt) : now;
  return formatDuration(end - Date.parse(job.startedAt));
}
