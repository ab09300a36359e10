import type { agentV1 } from '@coffer/contracts';
import type { HostHealth } from '../health/health-collector';
import type { Hooks } from '@coffer/sources';
import type { BackupSource, DatabaseRestoreTarget, JobKind, JobOutcome, JobProgressReport, JobRequest, JobResult, JobSpec } from '../jobs/job-types';

/*
 * The edge between the wire (generated proto types) and the agent's own types. Nothing
 * past this file sees a generated type.
 */

const KIND_BY_WIRE: Record<string, JobKind> = {
  JOB_KIND_BACKUP: 'backup',
  JOB_KIND_RESTORE: 'restore',
  JOB_KIND_FORGET: 'forget',
  JOB_KIND_PRUNE: 'prune',
  JOB_KIND_CHECK: 'check',
  JOB_KIND_VERIFY: 'verify',
};

const OUTCOME_TO_WIRE: Record<JobOutcome, agentV1.JobOutcome> = {
  succeeded: 'JOB_OUTCOME_SUCCEEDED',
  failed: 'JOB_OUTCOME_FAILED',
  cancelled: 'JOB_OUTCOME_CANCELLED',
  timed_out: 'JOB_OUTCOME_TIMED_OUT',
};

/** What this agent can do, for Hello. */
export const CAPABILITIES: agentV1.Capabilities = {
  jobKinds: ['JOB_KIND_BACKUP', 'JOB_KIND_RESTORE', 'JOB_KIND_FORGET', 'JOB_KIND_PRUNE', 'JOB_KIND_CHECK', 'JOB_KIND_VERIFY'],
  sourceKinds: ['files', 'command', 'postgres', 'mysql', 'redis'],
};

/** A RunJob as a JobRequest, or why it cannot be run (the kind is a best guess for the record). */
export function toJobRequest(wire: agentV1.RunJob__Output): { request: JobRequest } | { jobId: string; kind: JobKind; problem: string } {
  const kind = KIND_BY_WIRE[String(wire.kind)];
  const reject = (problem: string) => ({ jobId: wire.jobId, kind: kind ?? 'backup', problem });
  if (!kind) return reject(`this agent cannot run jobs of kind ${String(wire.kind)}`);
  if (!wire.repository || !wire.repository.url) return reject('the job names no repository');
  const spec = toJobSpec(kind, wire);
  if (typeof spec === 'string') return reject(spec);
  return {
    request: {
      jobId: wire.jobId,
      attempt: wire.attempt,
      timeoutSeconds: wire.timeoutSeconds,
      repository: {
        name: wire.repository.name,
        url: wire.repository.url,
        password: wire.repository.password,
        environment: { ...wire.repository.environment },
      },
      spec,
    },
  };
}

function toJobSpec(kind: JobKind, wire: agentV1.RunJob__Output): JobSpec | string {
  if (wire.spec !== kind) return `the ${kind} job carries ${wire.spec ? `a ${wire.spec}` : 'no'} spec`;
  switch (kind) {
    case 'backup': {
      const s = wire.backup!;
      const sources: BackupSource[] = [];
      for (const source of s.sources) {
        if (source.kind === 'files' && source.files) {
          const f = source.files;
          sources.push({ kind: 'files', paths: f.paths, include: f.include, exclude: f.exclude, oneFileSystem: f.oneFileSystem });
        } else if (source.kind === 'command' && source.command) {
          sources.push({ kind: 'command', command: source.command.command, filename: source.command.filename });
        } else if (source.kind === 'postgres' && source.postgres) {
          const p = source.postgres;
          sources.push({ kind: 'postgres', url: p.url, databases: p.databases, schemas: p.schemas, globals: p.globals, globalsOnly: p.globalsOnly, passwordFile: p.passwordFile, password: p.password });
        } else if (source.kind === 'mysql' && source.mysql) {
          const m = source.mysql;
          sources.push({ kind: 'mysql', url: m.url, databases: m.databases, passwordFile: m.passwordFile, password: m.password });
        } else if (source.kind === 'redis' && source.redis) {
          const r = source.redis;
          sources.push({ kind: 'redis', url: r.url, passwordFile: r.passwordFile, password: r.password });
        } else {
          return `a source of the backup job is of a kind this agent does not know (${source.kind ?? 'none'})`;
        }
      }
      return { kind, policyName: s.policyName, sources, tags: s.tags, hooks: toHooks(s.hooks) };
    }
    case 'restore': {
      const s = wire.restore!;
      const database = toDatabaseTarget(s.database);
      if (typeof database === 'string') return database;
      return { kind, snapshotId: s.snapshotId, targetDir: s.targetDir, include: s.include, ...(database ? { database } : {}), hooks: toHooks(s.hooks) };
    }
    case 'verify':
      return { kind, snapshotId: wire.verify!.snapshotId };
    case 'forget': {
      const s = wire.forget!;
      const r = s.retention ?? { keepLast: 0, keepHourly: 0, keepDaily: 0, keepWeekly: 0, keepMonthly: 0, keepYearly: 0, keepWithin: '' };
      return {
        kind,
        tag: s.tag,
        host: s.host,
        retention: { keepLast: r.keepLast, keepHourly: r.keepHourly, keepDaily: r.keepDaily, keepWeekly: r.keepWeekly, keepMonthly: r.keepMonthly, keepYearly: r.keepYearly, keepWithin: r.keepWithin },
      };
    }
    case 'prune':
      return { kind };
    case 'check': {
      const s = wire.check!;
      return { kind, readData: s.readData, readDataSubsetPercent: s.readDataSubsetPercent };
    }
  }
}

/** Hook defaults: 10 minutes, and a failure fails the job. */
const DEFAULT_HOOK_TIMEOUT_SECONDS = 600;

function toHooks(wire: agentV1.Hooks__Output | null): Hooks {
  const one = (h: agentV1.Hook__Output) => ({
    run: h.run,
    timeoutSeconds: h.timeoutSeconds > 0 ? h.timeoutSeconds : DEFAULT_HOOK_TIMEOUT_SECONDS,
    onFailure: h.onFailure === 'HOOK_FAILURE_MODE_CONTINUE' ? ('continue' as const) : ('fail' as const),
  });
  return { before: (wire?.before ?? []).map(one), after: (wire?.after ?? []).map(one) };
}

/** A restore's database target; undefined for a directory restore; a string when it cannot be read. */
function toDatabaseTarget(wire: agentV1.DatabaseTarget__Output | null): DatabaseRestoreTarget | undefined | string {
  if (!wire) return undefined;
  if (wire.kind === 'postgres' && wire.postgres) {
    const p = wire.postgres;
    return { kind: 'postgres', url: p.url, password: p.password, clean: p.clean, schemas: p.schemas, jobs: p.jobs, sourceDatabase: p.sourceDatabase, globals: p.globals, noOwner: p.noOwner };
  }
  if (wire.kind === 'mysql' && wire.mysql) {
    const m = wire.mysql;
    return { kind: 'mysql', url: m.url, password: m.password, clean: m.clean, sourceDatabase: m.sourceDatabase };
  }
  if (wire.kind === 'redis' && wire.redis) return { kind: 'redis', dir: wire.redis.dir, clean: wire.redis.clean };
  return `the restore job's database target is of a kind this agent does not know (${wire.kind ?? 'none'})`;
}

export function jobFinishedMessage(r: JobResult): agentV1.AgentMessage {
  return {
    jobFinished: {
      jobId: r.jobId,
      outcome: OUTCOME_TO_WIRE[r.outcome],
      errorMessage: r.errorMessage,
      log: r.log,
      startedAtUnixMs: r.startedAtMs,
      finishedAtUnixMs: r.finishedAtMs,
      snapshots: r.snapshots.map((s) => ({
        id: s.id,
        timeUnixMs: s.timeUnixMs,
        hostname: s.hostname,
        sourceKind: s.sourceKind,
        paths: s.paths,
        tags: s.tags,
        parentId: s.parentId,
        files: s.files,
        bytesRead: s.bytesRead,
        bytesNew: s.bytesNew,
        bytesStored: s.bytesStored,
        durationSeconds: s.durationSeconds,
      })),
      forgottenSnapshotIds: r.forgottenSnapshotIds,
      restoredFiles: r.restoredFiles,
      restoredBytes: r.restoredBytes,
    },
  };
}

export function jobAcceptedMessage(jobId: string, startedAtMs: number): agentV1.AgentMessage {
  return { jobAccepted: { jobId, startedAtUnixMs: startedAtMs } };
}

export function jobProgressMessage(p: JobProgressReport): agentV1.AgentMessage {
  return {
    jobProgress: {
      jobId: p.jobId,
      phase: p.phase,
      filesDone: p.filesDone,
      filesTotal: p.filesTotal,
      bytesDone: p.bytesDone,
      bytesTotal: p.bytesTotal,
      bytesPerSecond: p.bytesPerSecond,
    },
  };
}

export function healthMessage(h: HostHealth): agentV1.Health {
  return {
    hostname: h.hostname,
    os: h.os,
    arch: h.arch,
    agentVersion: h.agentVersion,
    hostUptimeSeconds: h.hostUptimeSeconds,
    agentUptimeSeconds: h.agentUptimeSeconds,
    loadAverage: h.loadAverage,
    memoryTotalBytes: h.memoryTotalBytes,
    memoryAvailableBytes: h.memoryAvailableBytes,
    agentRssBytes: h.agentRssBytes,
    disks: h.disks.map((d) => ({ path: d.path, role: d.role, freeBytes: d.freeBytes, totalBytes: d.totalBytes })),
    tools: h.tools.map((t) => ({ name: t.name, version: t.version, path: t.path })),
  };
}
