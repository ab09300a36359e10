import type { Repository } from './repository';

/** Numbers `coffer repo stats` shows. */
export interface RepositoryStats {
  snapshots: number;
  /** Sum over snapshots of the bytes of their files: what restoring every snapshot would write. */
  totalFileBytes: number;
  uniqueBlobs: number;
  /** Plaintext bytes of all distinct blobs. */
  uniqueRawBytes: number;
  /** Bytes the packs take in storage. */
  storedBytes: number;
  packs: number;
  /** uniqueRawBytes / storedBytes. */
  compressionRatio: number;
  /** totalFileBytes / uniqueRawBytes. */
  dedupRatio: number;
}

/** Sizes of the repository and what deduplication and compression save. */
export async function repositoryStats(repo: Repository): Promise<RepositoryStats> {
  const index = await repo.loadIndex();
  const snapshots = await repo.listSnapshots();
  let uniqueRawBytes = 0;
  for (const loc of index.blobs.values()) uniqueRawBytes += loc.rawLength;
  let storedBytes = 0;
  let packs = 0;
  for await (const obj of repo.storage.list('data')) {
    storedBytes += obj.size;
    packs++;
  }
  const totalFileBytes = snapshots.reduce((sum, r) => sum + r.snapshot.stats.totalBytes, 0);
  return {
    snapshots: snapshots.length,
    totalFileBytes,
    uniqueBlobs: index.blobs.size,
    uniqueRawBytes,
    storedBytes,
    packs,
    compressionRatio: storedBytes ? uniqueRawBytes / storedBytes : 0,
    dedupRatio: uniqueRawBytes ? totalFileBytes / uniqueRawBytes : 0,
  };
}
