import type { Readable } from 'node:stream';

/*
 * The contract every database engine of libs/sources follows (postgres/, mysql/, redis/).
 *
 * BACKUP: `plan…Backup(spec, context)` runs the preflight — tools found and new enough for
 * the server, credentials and databases right — and only then returns a DatabaseBackupPlan:
 * the manifest and the dump files, each opened lazily as a stream that ends only if its tool
 * exited 0 (toolOutput). planDatabaseBackup (database-engines.ts) puts the manifest file
 * first; the caller (CLI, agent) streams every file into ONE snapshot with backupStreams, which writes the snapshot only after every stream ended
 * cleanly, and then calls plan.dispose(). A failed preflight throws SourceError before
 * anything is written.
 *
 * RESTORE: `restore…(manifest, open, options)` reads files of the snapshot through `open` and
 * feeds them to the engine's tools; the target is created if missing and refused when it
 * exists and holds anything unless `clean` is set.
 */

/** The engines with a native source. */
export type DatabaseKind = 'postgres' | 'mysql' | 'redis';

/** Name of the manifest file at the root of every database snapshot. */
export const SOURCE_MANIFEST_FILE = 'coffer-source.json';

/** What a database snapshot holds: written first into the snapshot, read first by a restore. */
export interface SourceManifest {
  version: 1;
  kind: DatabaseKind;
  /** The server, without any password: "postgres://root@127.0.0.1:5432". */
  server: string;
  /** As the server reports it, e.g. "15.20", "10.11.19-MariaDB", "7.0.15". */
  serverVersion: string;
  /** The dump tool and its version, e.g. { name: "pg_dump", version: "15.20" }. */
  tool: { name: string; version: string };
  /** One entry per dump file, in the order they were written. */
  items: ManifestItem[];
}

/** One dump file of a database snapshot. */
export interface ManifestItem {
  /** File name at the snapshot's root. */
  file: string;
  /**
   * database: one database's dump; globals: PostgreSQL roles and tablespaces
   * (pg_dumpall --globals-only); rdb: a Redis RDB file.
   */
  content: 'database' | 'globals' | 'rdb';
  /** The source database (content "database"). */
  database?: string;
  /** PostgreSQL: the schemas the dump was limited to; absent = every schema. */
  schemas?: string[];
  /** pg-custom: pg_dump -Fc (uncompressed); sql: a SQL script; rdb: Redis RDB. */
  format: 'pg-custom' | 'sql' | 'rdb';
}

/** A dump to stream into the snapshot as one file. */
export interface DumpFile {
  name: string;
  /** Starts the tool; the stream ends only after the tool exited 0, and fails otherwise. */
  open(): Readable;
}

/** What a preflight-checked backup will write. */
export interface DatabaseBackupPlan {
  kind: DatabaseKind;
  /** The snapshot's `paths`: one URL per database, no password ("postgres://root@h:5432/app"). */
  paths: string[];
  manifest: SourceManifest;
  files: DumpFile[];
  /** Removes what the plan made (the private password file): call it once the backup ended, whatever happened. */
  dispose(): Promise<void>;
}

/** Where a database server is and who connects. Never carries a password from a URL. */
export interface DatabaseConnection {
  host: string;
  port?: number;
  user?: string;
  /** A single database, when the URL names one. */
  database?: string;
  /** From a password file or the controller's secret store; handed to tools in a private file or the environment, never as an argument. */
  password?: string;
}

/** What every engine call needs besides its own options. */
export interface ToolContext {
  signal?: AbortSignal;
  /** Tool stderr lines and notes for the job log or the terminal. */
  log?: (line: string) => void;
  /** Told each tool's process group, so a stopped job can kill it with its children. */
  onProcessGroup?: (pgid: number) => void;
  /** Where private temporary files go (password files, restore staging); default: the OS temp dir. */
  tempDir?: string;
  /** PATH to find the tools on; default: process.env.PATH. */
  path?: string;
}

/** Opens a file at the root of the snapshot being restored, as a stream of its bytes. */
export type SnapshotFileOpener = (name: string) => Readable;

/** What a database restore did, for the summary line and --json. */
export interface DatabaseRestoreReport {
  /** Where the data went: "postgres://root@127.0.0.1:5432/app_copy", or a directory for Redis. */
  target: string;
  /** The snapshot files restored. */
  files: string[];
  bytes: number;
  /** True when the target database did not exist and was created. */
  created: boolean;
  /** Non-fatal messages worth showing (e.g. roles that already existed). */
  notes: string[];
}

/**
 * An error in what the user gave or in the state of the server, with a message that says
 * what to do: missing or too old tool, bad credentials, missing database, non-empty target.
 * Callers print the message as it is, with no stack.
 */
export class SourceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SourceError';
  }
}
