/** What a snapshot says about itself. Stored sealed to the repository public key. */
export interface Snapshot {
  version: 1;
  /** ISO 8601 time the backup started. */
  time: string;
  host: string;
  username: string;
  /** What was backed up: "files", "stdin", later database kinds. */
  sourceKind: string;
  /** The paths given (absolute), or the stdin file name. */
  paths: string[];
  tags: string[];
  /** Id of the snapshot this one was made incrementally against. */
  parent?: string;
  /** For a copy made by `repo copy`: the id of the snapshot first made, in the repository it was made in. */
  original?: string;
  /** Hex id of the root tree blob. */
  tree: string;
  stats: SnapshotStats;
  /** Problems met while backing up (unreadable files…), at most 1,000. */
  warnings: string[];
}

/** Numbers of one backup run. */
export interface SnapshotStats {
  files: number;
  dirs: number;
  /** Sum of the sizes of every file in the snapshot. */
  totalBytes: number;
  /** Bytes actually read from files (unchanged files are not read). */
  bytesRead: number;
  /** Plaintext bytes of blobs the repository did not have. */
  bytesNew: number;
  /** Bytes those new blobs take in storage, compressed and encrypted. */
  bytesStored: number;
  durationMs: number;
}

/** A snapshot with its id (the name of its object). */
export interface SnapshotRef {
  id: string;
  snapshot: Snapshot;
}
