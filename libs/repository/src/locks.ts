import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { AccessDeniedError } from '@coffer/storage';
import { openMeta, sealMeta } from './crypto/envelope';
import { RepositoryLockedError } from './errors';
import type { Repository } from './repository';

/** A lock not refreshed for this long belongs to a dead process. */
const STALE_AFTER_MS = 30 * 60 * 1000;
const REFRESH_EVERY_MS = 5 * 60 * 1000;

/** What a lock object holds (meta envelope, context "lock"). */
export interface LockRecord {
  /** Maintenance (forget, prune): excludes other maintenance, never backups. */
  exclusive: boolean;
  host: string;
  pid: number;
  operation: string;
  created: string;
  refreshed: string;
  /**
   * Set by a holder that could not delete its lock (writers may run with credentials that
   * lack delete rights): the lock is over, and maintenance removes it.
   */
  finished?: boolean;
}

/** A lock that is held now. */
export interface LiveLock {
  /** Object name, `locks/<32 hex>`. */
  name: string;
  record: LockRecord;
}

/** A held lock; release() ends it. */
export interface RepositoryLock {
  /** Object name of this lock, `locks/<32 hex>`; prune's deletion plans wait for such names. */
  readonly name: string;
  release(): Promise<void>;
}

/**
 * Shared locks (backups, copies, checks) coexist with each other and with maintenance; an
 * exclusive lock (forget, prune) excludes only other exclusive locks. Prune is safe beside
 * running backups because it deletes in two steps (see prune/deletion-plans.ts), and it
 * learns which backups run from their shared locks. Locks of dead processes are dropped:
 * on this host when the pid is gone, elsewhere once not refreshed for 30 minutes.
 */
export async function acquireLock(repo: Repository, operation: string, exclusive: boolean): Promise<RepositoryLock> {
  if (exclusive) {
    const conflict = (await readLiveLocks(repo)).find((l) => l.record.exclusive);
    if (conflict) throw lockedError(repo, conflict.record);
  }
  const name = `locks/${randomBytes(16).toString('hex')}`;
  const now = new Date().toISOString();
  const record: LockRecord = { exclusive, host: hostname(), pid: process.pid, operation, created: now, refreshed: now };
  const write = () => repo.storage.put(name, sealMeta(repo.master.metaKey, Buffer.from(JSON.stringify(record)), 'lock'));
  await write();
  if (exclusive) {
    // Two processes may have passed the check at the same moment: look again now ours is visible.
    const race = (await readLiveLocks(repo)).find((l) => l.name !== name && l.record.exclusive);
    if (race) {
      await repo.storage.delete(name);
      throw lockedError(repo, race.record);
    }
  }
  const timer = setInterval(() => {
    record.refreshed = new Date().toISOString();
    write().catch(() => undefined);
  }, REFRESH_EVERY_MS);
  timer.unref();
  return {
    name,
    async release() {
      clearInterval(timer);
      try {
        await repo.storage.delete(name);
      } catch (err) {
        if (!(err instanceof AccessDeniedError)) throw err;
        record.finished = true;
        await write();
      }
    },
  };
}

/** Removes stale locks, or with `all` every lock (`coffer repo unlock [--all]`); returns how many. */
export async function removeLocks(repo: Repository, all: boolean): Promise<number> {
  const before = await countLocks(repo);
  if (all) {
    for await (const obj of repo.storage.list('locks')) await repo.storage.delete(obj.name);
  } else {
    await readLiveLocks(repo); // deletes the stale ones it meets
  }
  return before - (await countLocks(repo));
}

async function countLocks(repo: Repository): Promise<number> {
  let n = 0;
  for await (const obj of repo.storage.list('locks')) if (obj) n++;
  return n;
}

/**
 * Locks held now. Stale and finished ones are deleted on the way where the credentials allow
 * it (a writer without delete rights leaves them to maintenance).
 */
export async function readLiveLocks(repo: Repository): Promise<LiveLock[]> {
  const live: LiveLock[] = [];
  for await (const obj of repo.storage.list('locks')) {
    let record: LockRecord;
    try {
      record = JSON.parse(openMeta(repo.master.metaKey, await repo.storage.get(obj.name), 'lock', obj.name).toString('utf8'));
    } catch {
      continue; // vanished meanwhile, or unreadable: not ours to judge
    }
    if (record.finished || isStale(record)) {
      await repo.storage.delete(obj.name).catch((err) => {
        if (!(err instanceof AccessDeniedError)) throw err;
      });
      continue;
    }
    live.push({ name: obj.name, record });
  }
  return live;
}

function isStale(lock: LockRecord): boolean {
  if (Date.now() - Date.parse(lock.refreshed) > STALE_AFTER_MS) return true;
  if (lock.host !== hostname()) return false;
  if (lock.pid === process.pid) return false;
  try {
    process.kill(lock.pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

function lockedError(repo: Repository, l: LockRecord): RepositoryLockedError {
  return new RepositoryLockedError(
    `${repo.storage.location} is locked exclusively by ${l.operation} (pid ${l.pid} on ${l.host}, since ${l.created}); ` +
      `wait for it to finish, or if that process is gone run "coffer repo unlock"`,
  );
}
