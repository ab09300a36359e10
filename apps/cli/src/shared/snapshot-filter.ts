import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { SnapshotRef } from '@coffer/repository';
import { collect } from './option-parsers';

/** `--host`, `--tag`, `--path`: which snapshots a command considers. */
export interface SnapshotFilterOptions {
  host?: string[];
  tag?: string[];
  path?: string[];
}

/** Adds the snapshot filter options to a command. */
export function withSnapshotFilterOptions(command: Command): Command {
  return command
    .option('--host <name>', 'only snapshots of this host (repeatable: any of them)', collect)
    .option('--tag <tag>', 'only snapshots carrying this tag (repeatable: all of them)', collect)
    .option('--path <path>', 'only snapshots that include this path (repeatable: all of them)', collect);
}

/** The filter the options describe; `ids` (prefixes of at least 4 hex digits), when given, narrow it further. */
export function snapshotFilter(options: SnapshotFilterOptions, ids: string[] = []): (ref: SnapshotRef) => boolean {
  const hosts = options.host ?? [];
  const tags = options.tag ?? [];
  const paths = (options.path ?? []).map((p) => resolve(p));
  return ({ id, snapshot: s }) =>
    (hosts.length === 0 || hosts.includes(s.host)) &&
    tags.every((t) => s.tags.includes(t)) &&
    paths.every((p) => s.paths.includes(p)) &&
    (ids.length === 0 || ids.some((prefix) => id.startsWith(prefix)));
}
