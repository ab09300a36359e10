/** Kinds of filesystem entries a snapshot records. Sockets and devices are skipped by the files source. */
export type FsEntryType = 'file' | 'dir' | 'symlink';

/** One filesystem entry as the files source saw it (from lstat). */
export interface FsEntry {
  /** Absolute path on the host. */
  absPath: string;
  /** Base name (the last path component; '' never occurs). */
  name: string;
  type: FsEntryType;
  /** Permission bits and set-id/sticky bits (st_mode & 0o7777). */
  mode: number;
  uid: number;
  gid: number;
  /** Modification time, nanoseconds since the epoch. */
  mtimeNs: bigint;
  /** Bytes, for files; 0 otherwise. */
  size: number;
  ino: bigint;
  dev: bigint;
  nlink: number;
  /** Target of a symlink, as stored in the link. */
  linkTarget?: string;
}

/**
 * What the files source yields, depth first, pre-order. For each root path given:
 * `root` first, then for a directory `dir-enter` … its entries … `dir-leave`
 * (nested directories nest), for a file or symlink a single `entry`.
 * `warning` may come anywhere: an unreadable or vanished path, a skipped socket or device.
 */
export type WalkEvent =
  | { kind: 'root'; absPath: string }
  | { kind: 'dir-enter'; entry: FsEntry }
  | { kind: 'entry'; entry: FsEntry }
  | { kind: 'dir-leave'; entry: FsEntry }
  | { kind: 'warning'; path: string; message: string; skipped: 'unreadable' | 'vanished' | 'special' };
