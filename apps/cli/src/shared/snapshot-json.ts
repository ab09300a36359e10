import type { SnapshotRef } from '@coffer/repository';

/**
 * A snapshot as `--json` prints it. Keys are listed one by one, not spread, so a field
 * added to the stored format does not silently change what scripts receive.
 */
export function snapshotJson({ id, snapshot: s }: SnapshotRef) {
  return {
    id,
    shortId: id.slice(0, 8),
    time: s.time,
    host: s.host,
    username: s.username,
    sourceKind: s.sourceKind,
    paths: s.paths,
    tags: s.tags,
    parent: s.parent ?? null,
    tree: s.tree,
    stats: {
      files: s.stats.files,
      dirs: s.stats.dirs,
      totalBytes: s.stats.totalBytes,
      bytesRead: s.stats.bytesRead,
      bytesNew: s.stats.bytesNew,
      bytesStored: s.stats.bytesStored,
      durationMs: s.stats.durationMs,
    },
    warnings: s.warnings,
  };
}
