import { mkdirSync, readdirSync, readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fsyncDirectory, TEMP_PREFIX, writeFileAtomic } from '../shared/atomic-file';
import { emptyResult, JobKind, JobResult } from './job-types';

/**
 * One job as the ledger knows it.
 * - `running`: the agent accepted the job and may be running it;
 * - `finished` without `ackedAtMs`: the result is in the outbox, re-sent on every
 *   (re)connect until the controller acks it;
 * - `finished` with `ackedAtMs`: a tombstone. It still answers a repeated RunJob with the
 *   stored result, and is forgotten after TOMBSTONE_TTL_MS.
 */
export interface LedgerEntry {
  version: 1;
  jobId: string;
  kind: JobKind;
  state: 'running' | 'finished';
  attempt: number;
  startedAtMs: number;
  /** Set once finished. Holds no secrets: the repository access is never stored. */
  result?: JobResult;
  ackedAtMs?: number;
}

/** Tombstones are kept a week: longer than any controller retries a dispatch. */
export const TOMBSTONE_TTL_MS = 7 * 24 * 3600 * 1000;

/** Why a job left `running` without an outcome of its own. */
export const AGENT_STOPPED_MESSAGE = 'the agent stopped while the job was running';

/** Job ids become file names: a UUID passes, a path does not. */
export function isUsableJobId(jobId: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(jobId);
}

/**
 * The agent's durable memory of jobs, one small JSON file per job in DATA_DIR/jobs/, each
 * written atomically (temp + fsync + rename + directory fsync). It is what makes "each job
 * id runs at most once" hold across reconnects and restarts: a job is recorded `running`
 * before it starts, so after a crash it is known and is never started again.
 * Not safe for two agents on one data dir (the agent runs once per data dir).
 */
export class JobLedger {
  private readonly entries = new Map<string, LedgerEntry>();

  constructor(
    readonly dir: string,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Loads the ledger. Entries still `running` belong to a previous agent process that
   * died: they become finished FAILED (AGENT_STOPPED_MESSAGE), to be delivered. A file
   * that cannot be read keeps its job id known, as FAILED, so that job still never runs.
   * Returns the ids it failed that way and a problem description per unreadable file.
   */
  open(): { interrupted: string[]; damaged: string[] } {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const interrupted: string[] = [];
    const damaged: string[] = [];
    for (const name of readdirSync(this.dir)) {
      if (name.startsWith(TEMP_PREFIX)) {
        unlinkSync(join(this.dir, name)); // a write the previous process did not finish
        continue;
      }
      if (!name.endsWith('.json')) continue;
      const jobId = name.slice(0, -'.json'.length);
      if (!isUsableJobId(jobId)) continue;
      const entry = this.readEntry(jobId);
      if (!entry) {
        damaged.push(`${join(this.dir, name)} is unreadable: job ${jobId} is recorded as failed`);
        this.finishInterrupted({ version: 1, jobId, kind: 'backup', state: 'running', attempt: 0, startedAtMs: this.now() }, "the agent's record of this job was damaged");
        continue;
      }
      this.remember(entry);
      if (entry.state === 'running') {
        this.finishInterrupted(entry, AGENT_STOPPED_MESSAGE);
        interrupted.push(jobId);
      }
    }
    return { interrupted, damaged };
  }

  /**
   * Reads a ledger without changing anything (for `status`, which may run beside the agent).
   * Unreadable files are skipped.
   */
  static peek(dir: string): LedgerEntry[] {
    const ledger = new JobLedger(dir);
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return [];
    }
    return names
      .filter((n) => n.endsWith('.json') && !n.startsWith(TEMP_PREFIX))
      .map((n) => ledger.readEntry(n.slice(0, -'.json'.length)))
      .filter((e): e is LedgerEntry => e !== undefined);
  }

  /** The entry of a job, with its whole result (a tombstone's is read back from disk). */
  get(jobId: string): LedgerEntry | undefined {
    const entry = this.entries.get(jobId);
    if (entry?.ackedAtMs === undefined) return entry;
    return this.readEntry(jobId) ?? entry;
  }

  /** Records a job as running; durable when this returns, before the job starts. */
  recordStart(jobId: string, kind: JobKind, attempt: number, startedAtMs: number): LedgerEntry {
    if (this.entries.has(jobId)) throw new Error(`job ${jobId} is already in the ledger`);
    const entry: LedgerEntry = { version: 1, jobId, kind, state: 'running', attempt, startedAtMs };
    this.save(entry);
    return entry;
  }

  /** Records a job's result; it is in the outbox from now on. */
  recordFinish(result: JobResult): LedgerEntry {
    const before = this.entries.get(result.jobId);
    const entry: LedgerEntry = {
      version: 1,
      jobId: result.jobId,
      kind: result.kind,
      state: 'finished',
      attempt: before?.attempt ?? 0,
      startedAtMs: before?.startedAtMs ?? result.startedAtMs,
      result,
    };
    this.save(entry);
    return entry;
  }

  /** The controller has the result: keep a tombstone. False when there was nothing to ack. */
  acknowledge(jobId: string): boolean {
    const entry = this.entries.get(jobId);
    if (!entry || entry.state !== 'finished' || entry.ackedAtMs !== undefined) return false;
    this.save({ ...entry, ackedAtMs: this.now() });
    return true;
  }

  /** Finished results the controller has not acked yet, oldest first. */
  outbox(): JobResult[] {
    return [...this.entries.values()]
      .filter((e) => e.state === 'finished' && e.ackedAtMs === undefined && e.result)
      .map((e) => e.result!)
      .sort((a, b) => a.finishedAtMs - b.finishedAtMs);
  }

  /** Every entry; tombstones without their log. */
  all(): LedgerEntry[] {
    return [...this.entries.values()];
  }

  /** Forgets tombstones acked more than `ttlMs` ago; returns how many. */
  pruneTombstones(ttlMs = TOMBSTONE_TTL_MS): number {
    const cutoff = this.now() - ttlMs;
    let removed = 0;
    for (const entry of [...this.entries.values()]) {
      if (entry.ackedAtMs === undefined || entry.ackedAtMs >= cutoff) continue;
      try {
        unlinkSync(this.pathOf(entry.jobId));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
      this.entries.delete(entry.jobId);
      removed++;
    }
    if (removed > 0) fsyncDirectory(this.dir);
    return removed;
  }

  private finishInterrupted(entry: LedgerEntry, message: string): void {
    const result = { ...emptyResult(entry.jobId, entry.kind, entry.startedAtMs), outcome: 'failed' as const, errorMessage: message, finishedAtMs: this.now() };
    this.remember(entry);
    this.recordFinish(result);
  }

  private readEntry(jobId: string): LedgerEntry | undefined {
    try {
      const entry = JSON.parse(readFileSync(this.pathOf(jobId), 'utf8')) as LedgerEntry;
      if (entry.jobId !== jobId || (entry.state !== 'running' && entry.state !== 'finished')) return undefined;
      if (entry.state === 'finished' && !entry.result) return undefined;
      return entry;
    } catch {
      return undefined;
    }
  }

  private save(entry: LedgerEntry): void {
    writeFileAtomic(this.pathOf(entry.jobId), JSON.stringify(entry), 0o600);
    this.remember(entry);
  }

  /**
   * Keeps an entry in memory. A tombstone is kept without its log (up to JOB_LOG_LIMIT lines):
   * a week of them would otherwise weigh on an idle agent, and it is needed only to answer a
   * repeated RunJob, when get() reads it back.
   */
  private remember(entry: LedgerEntry): void {
    this.entries.set(entry.jobId, entry.ackedAtMs !== undefined && entry.result ? { ...entry, result: { ...entry.result, log: [] } } : entry);
  }

  private pathOf(jobId: string): string {
    return join(this.dir, `${jobId}.json`);
  }
}
