import type { agentV1, PolicyHooks, PolicySource, RestoreDatabaseTarget } from '@coffer/contracts';
import { parseDurationSeconds } from '@coffer/contracts';
import type { AgentCommand } from '../agents/agent-sessions';
import type { AgentHealth } from '../agents/agent.types';
import type { EnrollmentRequest, EnrollmentResult } from '../enrollment/enrollment.service';
import type { JobFinishedReport, JobProgressReport, JobSpec, ReportedOutcome, ReportedSnapshot } from '../jobs/job.types';

/*
 * The edge between the protocol's generated types and the fleet's domain types. Nothing
 * below the gateway sees a protobuf object; nothing above it sees a JobRecord.
 */

type Input<T> = T | null | undefined;

export function toEnrollmentRequest(request: agentV1.EnrollRequest__Output): EnrollmentRequest {
  return {
    token: request.token ?? '',
    csrPem: request.csrPem ?? '',
    name: request.name ?? '',
    labels: { ...(request.labels ?? {}) },
    hostname: request.hostname ?? '',
    agentVersion: request.agentVersion ?? '',
  };
}

export function fromEnrollmentResult(result: EnrollmentResult): agentV1.EnrollResponse {
  return {
    agentId: result.agentId,
    name: result.name,
    certificatePem: result.certificatePem,
    caCertificatePem: result.caCertificatePem,
    labels: result.labels,
  };
}

/** Health as reported; undefined when the message carried none. */
export function toAgentHealth(health: Input<agentV1.Health__Output>): AgentHealth | undefined {
  if (!health) return undefined;
  return {
    hostname: health.hostname ?? '',
    os: health.os ?? '',
    arch: health.arch ?? '',
    agentVersion: health.agentVersion ?? '',
    hostUptimeSeconds: num(health.hostUptimeSeconds),
    agentUptimeSeconds: num(health.agentUptimeSeconds),
    loadAverage: (health.loadAverage ?? []).map(num),
    memoryTotalBytes: num(health.memoryTotalBytes),
    memoryAvailableBytes: num(health.memoryAvailableBytes),
    agentRssBytes: num(health.agentRssBytes),
    disks: (health.disks ?? []).map((disk) => ({
      path: disk.path ?? '',
      role: disk.role ?? '',
      freeBytes: num(disk.freeBytes),
      totalBytes: num(disk.totalBytes),
    })),
    tools: (health.tools ?? []).map((tool) => ({ name: tool.name ?? '', version: tool.version ?? '', path: tool.path ?? '' })),
  };
}

const OUTCOMES: Record<string, ReportedOutcome> = {
  JOB_OUTCOME_SUCCEEDED: 'succeeded',
  JOB_OUTCOME_FAILED: 'failed',
  JOB_OUTCOME_CANCELLED: 'cancelled',
  JOB_OUTCOME_TIMED_OUT: 'timed_out',
};

export function toJobFinishedReport(message: agentV1.JobFinished__Output): JobFinishedReport {
  // An unset or unknown outcome is a failure: the agent did not say it worked.
  const outcome = OUTCOMES[String(message.outcome)] ?? 'failed';
  const unspecified = !(String(message.outcome) in OUTCOMES);
  return {
    jobId: message.jobId ?? '',
    outcome,
    errorMessage: message.errorMessage || (unspecified ? `the agent reported no outcome (${String(message.outcome)})` : ''),
    log: [...(message.log ?? [])],
    startedAt: unixMs(message.startedAtUnixMs),
    finishedAt: unixMs(message.finishedAtUnixMs),
    snapshots: (message.snapshots ?? []).map(toReportedSnapshot),
    forgottenSnapshotIds: [...(message.forgottenSnapshotIds ?? [])],
    restoredFiles: num(message.restoredFiles),
    restoredBytes: num(message.restoredBytes),
  };
}

function toReportedSnapshot(snapshot: agentV1.SnapshotSummary__Output): ReportedSnapshot {
  return {
    id: snapshot.id,
    time: unixMs(snapshot.timeUnixMs) ?? new Date(0),
    hostname: snapshot.hostname ?? '',
    sourceKind: snapshot.sourceKind ?? '',
    paths: [...(snapshot.paths ?? [])],
    tags: [...(snapshot.tags ?? [])],
    parentId: snapshot.parentId || null,
    files: num(snapshot.files),
    bytesRead: num(snapshot.bytesRead),
    bytesNew: num(snapshot.bytesNew),
    bytesStored: num(snapshot.bytesStored),
    durationSeconds: num(snapshot.durationSeconds),
  };
}

export function toJobProgressReport(message: agentV1.JobProgress__Output): JobProgressReport {
  return {
    jobId: message.jobId ?? '',
    phase: message.phase ?? '',
    filesDone: num(message.filesDone),
    filesTotal: num(message.filesTotal),
    bytesDone: num(message.bytesDone),
    bytesTotal: num(message.bytesTotal),
    bytesPerSecond: num(message.bytesPerSecond),
  };
}

/**
 * The protocol message for a command. RunJob gets the repository secrets and the values of
 * the secrets its spec names here, and only here.
 */
export function toControllerMessage(command: AgentCommand): agentV1.ControllerMessage {
  switch (command.type) {
    case 'runJob': {
      const { job, access } = command;
      const secrets = command.secrets ?? {};
      return {
        runJob: {
          jobId: job.id,
          kind: JOB_KINDS[job.kind],
          repository: { name: access.name, url: access.url, password: access.password, environment: { ...access.environment } },
          timeoutSeconds: job.timeoutSeconds,
          attempt: job.attempt,
          ...toSpec(job.spec, job.policyName, secrets),
        },
      };
    }
    case 'cancelJob':
      return { cancelJob: { jobId: command.jobId, reason: command.reason } };
    case 'jobFinishedAck':
      return { jobFinishedAck: { jobId: command.jobId } };
  }
}

const JOB_KINDS: Record<JobSpec['kind'], agentV1.JobKind> = {
  backup: 'JOB_KIND_BACKUP',
  restore: 'JOB_KIND_RESTORE',
  forget: 'JOB_KIND_FORGET',
  prune: 'JOB_KIND_PRUNE',
  check: 'JOB_KIND_CHECK',
  verify: 'JOB_KIND_VERIFY',
};

/** The value of a named secret; '' when none is named. The dispatcher checked it exists. */
function secretValue(name: string | undefined, secrets: Record<string, string>): string {
  return name === undefined ? '' : (secrets[name] ?? '');
}

function toSource(source: PolicySource, secrets: Record<string, string>): agentV1.Source {
  if ('files' in source) {
    return { files: { paths: source.files.paths, include: source.files.include, exclude: source.files.exclude, oneFileSystem: source.files.oneFileSystem } };
  }
  if ('command' in source) return { command: { command: source.command.run, filename: source.command.filename } };
  if ('postgres' in source) {
    const p = source.postgres;
    return {
      postgres: {
        url: p.url,
        databases: p.databases ?? [],
        schemas: p.schemas ?? [],
        globals: p.globals ?? false,
        globalsOnly: p.globalsOnly ?? false,
        passwordFile: p.passwordFile ?? '',
        password: secretValue(p.passwordSecret, secrets),
      },
    };
  }
  if ('mysql' in source) {
    const m = source.mysql;
    return { mysql: { url: m.url, databases: m.databases ?? [], passwordFile: m.passwordFile ?? '', password: secretValue(m.passwordSecret, secrets) } };
  }
  const r = source.redis;
  return { redis: { url: r.url, passwordFile: r.passwordFile ?? '', password: secretValue(r.passwordSecret, secrets) } };
}

function toHooks(hooks: PolicyHooks | undefined): agentV1.Hooks | undefined {
  if (!hooks) return undefined;
  const one = (hook: PolicyHooks['before'][number]): agentV1.Hook => ({
    run: hook.run,
    timeoutSeconds: parseDurationSeconds(hook.timeout) ?? 600,
    onFailure: hook.onFailure === 'continue' ? 'HOOK_FAILURE_MODE_CONTINUE' : 'HOOK_FAILURE_MODE_FAIL',
  });
  return { before: hooks.before.map(one), after: hooks.after.map(one) };
}

function toDatabaseTarget(target: RestoreDatabaseTarget, secrets: Record<string, string>): agentV1.DatabaseTarget {
  if ('postgres' in target) {
    const p = target.postgres;
    return {
      postgres: {
        url: p.url,
        password: secretValue(p.passwordSecret, secrets),
        clean: p.clean ?? false,
        schemas: p.schemas ?? [],
        jobs: p.jobs ?? 0,
        sourceDatabase: p.sourceDatabase ?? '',
        globals: p.globals ?? false,
        noOwner: p.noOwner ?? false,
      },
    };
  }
  if ('mysql' in target) {
    const m = target.mysql;
    return { mysql: { url: m.url, password: secretValue(m.passwordSecret, secrets), clean: m.clean ?? false, sourceDatabase: m.sourceDatabase ?? '' } };
  }
  return { redis: { dir: target.redis.dir, clean: target.redis.clean ?? false } };
}

function toSpec(spec: JobSpec, policyName: string | null, secrets: Record<string, string>): Partial<agentV1.RunJob> {
  switch (spec.kind) {
    case 'backup':
      return {
        backup: {
          policyName: policyName ?? '',
          tags: spec.tags,
          sources: spec.sources.map((source) => toSource(source, secrets)),
          ...(spec.hooks ? { hooks: toHooks(spec.hooks) } : {}),
        },
      };
    case 'restore':
      return {
        restore: {
          snapshotId: spec.snapshotId,
          targetDir: spec.targetDir,
          include: spec.include,
          ...(spec.database ? { database: toDatabaseTarget(spec.database, secrets) } : {}),
          ...(spec.hooks ? { hooks: toHooks(spec.hooks) } : {}),
        },
      };
    case 'verify':
      return { verify: { snapshotId: spec.snapshotId } };
    case 'forget':
      return {
        forget: {
          tag: spec.tag,
          host: spec.host,
          retention: {
            keepLast: spec.retention.keepLast ?? 0,
            keepHourly: spec.retention.keepHourly ?? 0,
            keepDaily: spec.retention.keepDaily ?? 0,
            keepWeekly: spec.retention.keepWeekly ?? 0,
            keepMonthly: spec.retention.keepMonthly ?? 0,
            keepYearly: spec.retention.keepYearly ?? 0,
            keepWithin: spec.retention.keepWithin ?? '',
          },
        },
      };
    case 'prune':
      return { prune: {} };
    case 'check':
      return { check: { readData: spec.readData, readDataSubsetPercent: spec.readDataSubsetPercent } };
  }
}

function num(value: unknown): number {
  const n = typeof value === 'number' ? value : Number(value ?? 0);
  return Number.isFinite(n) ? n : 0;
}

function unixMs(value: unknown): Date | null {
  const ms = num(value);
  return ms > 0 ? new Date(ms) : null;
}
