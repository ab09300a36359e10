import { Command, Option } from 'commander';
import type { JobDetailView, JobStatus, JobView, RestoreDatabaseTarget } from '@coffer/contracts';
import { CliError } from '../../shared/cli-error';
import { ExitCode } from '../../shared/exit-codes';
import { formatBytes, formatLocalTime, formatTable, shortId } from '../../shared/format';
import { wholeNumber } from '../../shared/option-parsers';
import { Terminal } from '../../shared/terminal';
import { ApiError, ControllerClient } from '../controller-client';
import { connect, ControllerOptions, fleetAction, JsonOptions, withControllerOption, withJson } from '../fleet-options';
import { describeJob, jobDuration } from '../fleet-format';
import { requireSuccess, waitForJobs } from '../job-wait';

/** Every job status, for `--status` (the contracts' JobStatus). */
const JOB_STATUSES: JobStatus[] = ['queued', 'dispatched', 'running', 'succeeded', 'failed', 'cancelled', 'timed_out', 'missed'];

interface RunOptions extends ControllerOptions, JsonOptions {
  agent?: string;
  wait?: boolean;
}

interface JobsOptions extends ControllerOptions, JsonOptions {
  status?: JobStatus;
  agent?: string;
  policy?: string;
  limit?: number;
}

/** `coffer run POLICY`: back up now, on every agent the policy selects (or one). */
export function registerRunCommand(program: Command): void {
  const run = program
    .command('run')
    .description("start a policy's backup now, on every agent it selects")
    .argument('<policy>', 'policy name')
    .option('--agent <name>', 'only on this agent (it must match the policy\'s selector)')
    .option('--wait', 'wait for the jobs to end, showing progress; exit 0 only if every one succeeded');
  withJson(withControllerOption(run), 'the started jobs (JobView[]); with --wait, their final detail (JobDetailView[])').action(
    fleetAction(async (policy: string, options: RunOptions) => {
      const out = new Terminal(!!options.json);
      const client = connect(options);
      const jobs = await client.runPolicy(policy, { agent: options.agent });
      if (jobs.length === 0) {
        if (out.json) out.printJson([]);
        throw new CliError(`no job was started: no agent${options.agent ? ` named "${options.agent}"` : ''} matches the selector of policy "${policy}"`);
      }
      for (const job of jobs) out.print(`started ${describeJob(job)}`);
      if (!options.wait) {
        if (out.json) out.printJson(jobs);
        return ExitCode.Success;
      }
      const final = await waitForJobs(client, jobs, out);
      if (out.json) out.printJson(final);
      requireSuccess(final);
      return ExitCode.Success;
    }),
  );
}

/** `coffer jobs [list]|show` and `coffer cancel`: the job history and what is running. */
export function registerJobsCommands(program: Command): void {
  const jobs = program.command('jobs').description('backup, restore and maintenance jobs, newest first').helpCommand(false);

  const list = jobs
    .command('list', { isDefault: true })
    .description('list jobs, newest first (the default)')
    .addOption(new Option('--status <status>', 'only jobs in this status').choices(JOB_STATUSES))
    .option('--agent <name>', 'only jobs of this agent')
    .option('--policy <name>', 'only jobs of this policy')
    .option('--limit <n>', 'at most this many jobs (default: the controller\'s)', wholeNumber);
  withJson(withControllerOption(list), 'the jobs as the API returns them (JobView[])').action(
    fleetAction(async (options: JobsOptions) => {
      const out = new Terminal(!!options.json);
      const views = await connect(options).listJobs({ status: options.status, agent: options.agent, policy: options.policy, limit: options.limit });
      if (out.json) out.printJson(views);
      else out.print(jobTable(views));
      return ExitCode.Success;
    }),
  );

  const show = jobs
    .command('show')
    .description('show a job: its transitions with times, progress, error and log')
    .argument('<id>', 'job id, or its first characters as coffer jobs shows them');
  withJson(withControllerOption(show), 'the job as the API returns it (JobDetailView)').action(
    fleetAction(async (id: string, options: ControllerOptions & JsonOptions) => {
      const out = new Terminal(!!options.json);
      const job = await findJob(connect(options), id);
      if (out.json) out.printJson(job);
      else out.print(jobDetail(job));
      return ExitCode.Success;
    }),
  );
}

/** `coffer cancel ID`. */
export function registerCancelCommand(program: Command): void {
  const cancel = program
    .command('cancel')
    .description('cancel a queued or running job')
    .argument('<id>', 'job id, or its first characters as coffer jobs shows them');
  withJson(withControllerOption(cancel), 'the job as the API returns it after the cancel (JobView)').action(
    fleetAction(async (id: string, options: ControllerOptions & JsonOptions) => {
      const out = new Terminal(!!options.json);
      const client = connect(options);
      const job = await client.cancelJob((await findJob(client, id)).id);
      if (out.json) out.printJson(job);
      else if (job.status === 'cancelled') out.print(`${describeJob(job)} cancelled`);
      else out.print(`${describeJob(job)}: cancel requested, the agent is stopping it (status: ${job.status})`);
      return ExitCode.Success;
    }),
  );
}

/**
 * The job with this id, or with this prefix among recent jobs: tables show 8 characters,
 * and people type what they see. An unknown or ambiguous prefix is the controller's 404 / an error.
 */
export async function findJob(client: ControllerClient, id: string): Promise<JobDetailView> {
  try {
    return await client.getJob(id);
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 404) || id.length >= 32) throw err;
    let recent: JobView[];
    try {
      recent = await client.listJobs({ limit: 1000 });
    } catch {
      throw err;
    }
    const matches = recent.filter((j) => j.id.startsWith(id));
    if (matches.length === 0) throw err;
    if (matches.length > 1) throw new CliError(`job id "${id}" is ambiguous: it starts ${matches.map((j) => j.id).join(', ')}; give more characters`);
    return client.getJob(matches[0].id);
  }
}

function jobTable(jobs: JobView[]): string {
  if (jobs.length === 0) return 'no jobs';
  const now = Date.now();
  const rows = jobs.map((j) => [
    shortId(j.id),
    j.kind,
    j.status + (j.late ? ' (late)' : ''),
    j.policy ?? '-',
    j.agent,
    j.trigger,
    formatLocalTime(j.createdAt),
    jobDuration(j, now) || '-',
    jobNote(j),
  ]);
  return formatTable(['ID', 'KIND', 'STATUS', 'POLICY', 'AGENT', 'TRIGGER', 'CREATED', 'DURATION', 'NOTE'], rows);
}

/** The error of a failed job, or how far a running one has got. */
function jobNote(j: JobView): string {
  if (j.error) return j.error;
  if (j.status === 'running' && j.progress) {
    const p = j.progress;
    const pct = p.bytesTotal > 0 ? ` ${Math.floor((p.bytesDone / p.bytesTotal) * 100)}%` : '';
    return `${p.phase}${pct}, ${formatBytes(p.bytesDone)}`;
  }
  if (j.snapshotIds.length > 0) return `snapshot ${j.snapshotIds.map(shortId).join(', ')}`;
  return '';
}

function jobDetail(j: JobDetailView): string {
  const time = (t: string | null) => (t ? formatLocalTime(t) : '-');
  const lines = [
    `job:         ${j.id}`,
    `kind:        ${j.kind}`,
    `status:      ${j.status} (attempt ${j.attempt} of ${j.maxAttempts})`,
    `policy:      ${j.policy ?? '-'}`,
    `agent:       ${j.agent}`,
    `repository:  ${j.repository}`,
    `trigger:     ${j.trigger}${j.late ? ' (late: the controller was down at the scheduled time)' : ''}`,
    `scheduled:   ${time(j.scheduledFor)}`,
    `created:     ${time(j.createdAt)}`,
    `started:     ${time(j.startedAt)}`,
    `finished:    ${time(j.finishedAt)}${j.finishedAt ? ` (ran ${jobDuration(j)})` : ''}`,
  ];
  if (j.snapshotIds.length > 0) lines.push(`snapshots:   ${j.snapshotIds.join(', ')}`);
  if (j.restore) {
    const include = j.restore.include.length > 0 ? `, only ${j.restore.include.join(' ')}` : '';
    lines.push(`restore:     snapshot ${j.restore.snapshotId} into ${j.restore.database ? describeDatabaseTarget(j.restore.database) : j.restore.targetDir}${include}`);
  }
  if (j.verify) lines.push(`verify:      snapshot ${j.verify.snapshotId}`);
  if (j.progress) {
    const p = j.progress;
    const files = p.filesTotal > 0 ? `${p.filesDone}/${p.filesTotal}` : `${p.filesDone}`;
    const bytes = p.bytesTotal > 0 ? `${formatBytes(p.bytesDone)}/${formatBytes(p.bytesTotal)}` : formatBytes(p.bytesDone);
    lines.push(`progress:    ${p.phase}: ${files} files, ${bytes}, ${formatBytes(p.bytesPerSecond)}/s (at ${time(p.updatedAt)})`);
  }
  if (j.error) lines.push(`error:       ${j.error}`);
  lines.push('', 'transitions:');
  for (const t of j.transitions) lines.push(`  ${time(t.at)}  ${t.status}${t.reason ? `  (${t.reason})` : ''}`);
  lines.push('', j.log.length > 0 ? 'log:' : 'log:         (empty)');
  for (const line of j.log) lines.push(`  ${line}`);
  return lines.join('\n');
}

/** A restore's database target as `jobs show` prints it (names a password secret, never a value). */
function describeDatabaseTarget(target: RestoreDatabaseTarget): string {
  if ('redis' in target) return `Redis data directory ${target.redis.dir}${target.redis.clean ? ' (clean)' : ''}`;
  const [url, clean, secret] = 'postgres' in target ? [target.postgres.url, target.postgres.clean, target.postgres.passwordSecret] : [target.mysql.url, target.mysql.clean, target.mysql.passwordSecret];
  return `${url}${clean ? ' (clean)' : ''}${secret ? ` (password: secret ${secret})` : ''}`;
}
