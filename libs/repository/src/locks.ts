import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { openMeta, sealMeta } from './crypto/envelope';
import { RepositoryLockedError } from './errors';
import type { Repository } from './repository';

/** A lock not refreshed for this long belongs to a dead process. */
const STALE_AFTER_MS = 30 * 60 * 1000;
const REFRESH_EVERY_MS = 5 * 60 * 1000;

interface LockRecord {
  exclusive: boolean;
  host: string;
  pid: number;
  operation: string;
  created: string;
  refreshed: string;
}

/** A held lock; release() removes it. */
export interface RepositoryLock {
  release(): Promise<void>;
}

/**
 * Shared locks (backups) may coexist; an exclusive lock (prune, forget) excludes all others.
 * Locks of dead processes are removed: on this host when the pid is gone, elsewhere once not
 * refreshed for 30 minutes.
 */
export async function acquireLock(repo: Repository, operation: string, exclusive: boolean): Promise<RepositoryLock> {
  const others = await readLocks(repo);
  const conflict = others.find((l) => exclusive || l.record.exclusive);
  if (conflict) throw lockedError(repo, conflict.record);

  const name = `locks/${randomBytes(16).toString('hex')}`;
  const record: LockRecord = { exclusive, host: hostname(), pid: process.pid, operation, created: new Date().toISOString(), refreshed: new Date().toISOString() };
  const write = () => repo.storage.put(name, sealMeta(repo.master.metaKey, Buffer.from(JSON.stringify(record)), 'lock'));
  await write();
  // Two processes may have passed the check at the same moment: look again now ours is visible.
  const race = (await readLocks(repo)).find((l) => l.name !== name && (exclusive || l.record.exclusive));
  if (race) {
    await repo.storage.delete(name);
    throw lockedError(repo, race.record);
  }
  const timer = setInterval(() => {
    record.refreshed = new Date().toISOString();
    write().catch(() => undefined);
  }, REFRESH_EVERY_MS);
  timer.unref();
  return {
    async release() {
      clearInterval(timer);
      await repo.storage.delete(name);
    },
  };
}

/** Removes stale locks, or with `all` every lock (`coffer repo unlock [--all]`); returns how many. */
export async function removeLocks(repo: Repository, all: boolean): Promise<number> {
  const before = await countLocks(repo);
  if (all) {
    for await (const obj of repo.storage.list('locks')) await repo.storage.delete(obj.name);
  } else {
    await readLocks(repo); // deletes the stale ones it meets
  }
  return before - (await countLocks(repo));
}

async function countLocks(repo: Repository): Promise<number> {
  let n = 0;
  for await (const obj of repo.storage.list('locks')) if (obj) n++;
  return n;
}

/** Live locks; stale ones are deleted on the way. */
async function readLocks(repo: Repository): Promise<Array<{ name: string; record: LockRecord }>> {
  const live: Array<{ name: string; record: LockRecord }> = [];
  for await (const obj of repo.storage.list('locks')) {
    let record: LockRecord;
    try {
      record = JSON.parse(openMeta(repo.master.metaKey, await repo.storage.get(obj.name), 'lock', obj.name).toString('utf8'));
    } catch {
      continue; // vanished meanwhile, or unreadable: not ours to judge
    }
    if (isStale(record)) {
      await repo.storage.delete(obj.name);
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
    `${repo.storage.location} is locked ${l.exclusive ? 'exclusively ' : ''}by ${l.operation} (pid ${l.pid} on ${l.host}, since ${l.created}); ` +
      `wait for it to finish, or if that process is gone run "coffer repo unlock"`,
  );
}
