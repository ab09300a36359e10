import { statfs } from 'node:fs/promises';

/** Space on the file system holding a path. */
export interface DiskSpace {
  path: string;
  /** "data_dir" for the agent's data dir, "source" for paths it backs up or was told to watch. */
  role: 'data_dir' | 'source';
  freeBytes: number;
  totalBytes: number;
}

/** A statfs that has not answered by then is not waited for (a hung network mount). */
const STATFS_TIMEOUT_MS = 5_000;

/**
 * Measures disk space without ever blocking health reports: a path whose previous statfs
 * is still running (a hung NFS mount holds a libuv thread until it answers) is skipped
 * rather than asked again, so a dead mount costs at most one thread, not the whole pool.
 */
export class DiskSpaceProbe {
  private readonly pending = new Map<string, Promise<unknown>>();

  /** Free (available to unprivileged users) and total bytes of `path`'s file system; undefined if unknown now. */
  async measure(path: string, role: DiskSpace['role']): Promise<DiskSpace | undefined> {
    if (this.pending.has(path)) return undefined;
    const call = statfs(path);
    this.pending.set(path, call);
    void call.then(
      () => this.pending.delete(path),
      () => this.pending.delete(path),
    );
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), STATFS_TIMEOUT_MS);
      timer.unref();
    });
    try {
      const s = await Promise.race([call, timeout]);
      return s ? { path, role, freeBytes: s.bavail * s.bsize, totalBytes: s.blocks * s.bsize } : undefined;
    } catch {
      return undefined; // a path that vanished or is unreadable is left out, not an error of the agent
    } finally {
      clearTimeout(timer);
    }
  }
}
