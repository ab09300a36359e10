import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { TreeNode } from '../format/tree';

/** What a writer keeps of its last files snapshot of one host and set of paths. */
export interface CachedParent {
  snapshotId: string;
  tree: string;
  /** Every directory listing of that snapshot, by tree id. */
  trees: Record<string, TreeNode[]>;
}

/**
 * The local state a host needs for incremental backups with a write-only key, which
 * cannot read its own snapshots back: the last snapshot's directory listings (names, sizes,
 * mtimes, inodes, blob ids), one file per host and set of paths, under
 * `<cache dir>/<repository id>/parents/`. They describe files this host holds anyway; the
 * directory is private to the user (0700, files 0600). Losing it costs one full read of
 * the files, never data: blob ids from it are used only if the index still lists them.
 */
export class WriterCache {
  private readonly dir: string;

  constructor(cacheDir: string, repositoryId: string) {
    this.dir = join(cacheDir, repositoryId, 'parents');
  }

  /** `$COFFER_CACHE_DIR`, else `$XDG_CACHE_HOME/coffer`, else `~/.cache/coffer`. */
  static defaultDir(env: NodeJS.ProcessEnv = process.env): string {
    if (env.COFFER_CACHE_DIR) return env.COFFER_CACHE_DIR;
    return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'coffer');
  }

  /** The cached parent, if any and readable; a damaged file is as good as none. */
  read(host: string, paths: string[]): CachedParent | undefined {
    try {
      return JSON.parse(readFileSync(this.fileOf(host, paths), 'utf8')) as CachedParent;
    } catch {
      return undefined;
    }
  }

  /** Replaces the cached parent atomically. */
  write(host: string, paths: string[], parent: CachedParent): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const file = this.fileOf(host, paths);
    const temp = `${file}.tmp-${randomBytes(6).toString('hex')}`;
    try {
      writeFileSync(temp, JSON.stringify(parent), { mode: 0o600 });
      renameSync(temp, file);
    } catch (err) {
      rmSync(temp, { force: true });
      throw err;
    }
  }

  private fileOf(host: string, paths: string[]): string {
    const key = createHash('sha256').update(JSON.stringify([host, [...paths].sort()])).digest('hex');
    return join(this.dir, `${key}.json`);
  }
}
