import type { ChunkerParams } from '../chunker/chunker';

/**
 * Messages between the main thread and pipeline workers. Workers do the CPU work (chunking,
 * hashing, compression, encryption, verification) and file I/O; the main thread owns the
 * index, dedup decisions, packs and uploads, so there is one writer of shared state.
 */
export interface WorkerSetup {
  idKey: Uint8Array;
  /** Key of packs this session writes (backup). */
  packKey?: Uint8Array;
  chunker: ChunkerParams;
  gearSeed: Uint8Array;
  compressionLevel: number;
  /** Storage location, for restore and check, which read packs themselves. */
  storageLocation: string;
  readPublicKey: Uint8Array;
  readPrivateKey?: Uint8Array;
}

/** A file to back up. */
export interface BackupFileJob {
  path: string;
  size: number;
}

/** How a backed-up file ended. */
export interface BackupFileResult {
  content: string[];
  size: number;
  /** Set when the file could not be read; it is then left out of the snapshot. */
  error?: string;
}

/** A blob's location, as restore and check need it. */
export interface BlobRef {
  id: string;
  packId: string;
  offset: number;
  length: number;
  rawLength: number;
  ephemeralPublic: string;
}

/** A file to restore. */
export interface RestoreFileJob {
  path: string;
  size: number;
  chunks: BlobRef[];
  mode: number;
  mtimeNs: string;
  uid: number;
  gid: number;
  chown: boolean;
}

/** A pack for `check --read-data` and what the index says it holds. */
export interface CheckPackJob {
  packId: string;
  /** Index entries: hex id → [type, offset, length, rawLength]. */
  expected: Array<[string, number, number, number, number]>;
}

export type TaskMessage =
  | { type: 'backup'; taskId: number; files: BackupFileJob[] }
  /** Chunks cut on the main thread (a stream's), one transferred buffer each, in stream order. */
  | { type: 'backup-chunks'; taskId: number; chunks: ArrayBuffer[] }
  | { type: 'restore'; taskId: number; files: RestoreFileJob[] }
  | { type: 'check-pack'; taskId: number; pack: CheckPackJob }
  | { type: 'dedup-answer'; taskId: number; newIds: string[] }
  /** A `sealed` message's buffer, handed back once its blobs are copied, for the next round. */
  | { type: 'buffer-return'; buffer: ArrayBuffer };

export type WorkerMessage =
  /** Content ids of a batch of chunks; the worker waits for a dedup-answer. */
  | { type: 'dedup-ask'; taskId: number; chunks: Array<[string, number]> }
  /** Sealed new blobs, back to back in `buffer`. */
  | { type: 'sealed'; taskId: number; blobs: Array<[string, number, number, number]>; buffer: ArrayBuffer }
  | { type: 'backup-done'; taskId: number; files: BackupFileResult[] }
  /** The ids of a backup-chunks task's chunks, in order. */
  | { type: 'chunks-done'; taskId: number; content: string[] }
  | { type: 'restore-done'; taskId: number; errors: Array<string | null>; bytes: number }
  | { type: 'check-done'; taskId: number; errors: string[]; bytes: number }
  | { type: 'failed'; taskId: number; message: string };
