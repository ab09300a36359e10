import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** The real binary, as `npx coffer` runs it: the tests drive only what a user can. */
export const COFFER_BIN = resolve(__dirname, '../../bin/coffer.js');
const BUILT_MAIN = resolve(__dirname, '../../dist/main.js');

/** What a run of the binary left for the user to see. */
export interface CofferRun {
  status: number | null;
  stdout: string;
  stderr: string;
  stdoutBytes: Buffer;
}

/** How to run the binary: environment on top of a clean one, stdin bytes, another user. */
export interface RunOptions {
  env?: Record<string, string | undefined>;
  input?: Buffer | string;
  cwd?: string;
  uid?: number;
  gid?: number;
}

/** Fails early, with what to do, when the binary has not been built. */
export function assertBuilt(): void {
  if (!existsSync(BUILT_MAIN)) throw new Error(`${BUILT_MAIN} is missing: build first with "npx tsc -b tsconfig.build.json"`);
}

/**
 * Runs `coffer ARGS` to completion. The environment is built from scratch (plus PATH), so a
 * COFFER_* variable in the developer's shell cannot change what a test sees.
 */
export function coffer(args: string[], options: RunOptions = {}): CofferRun {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C.UTF-8', TZ: process.env.TZ ?? 'UTC' };
  for (const [k, v] of Object.entries(options.env ?? {})) if (v !== undefined) env[k] = v;
  const result = spawnSync(process.execPath, [COFFER_BIN, ...args], {
    env,
    cwd: options.cwd,
    input: options.input ?? '',
    uid: options.uid,
    gid: options.gid,
    maxBuffer: 256 * 1024 * 1024,
    timeout: 110_000,
  });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout.toString('utf8'), stderr: result.stderr.toString('utf8'), stdoutBytes: result.stdout };
}

/** A fresh temporary directory, removed by the returned cleanup. */
export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `coffer-cli-${prefix}-`));
}

/** Removes a temp dir even where a test made parts of it unreadable. */
export function removeTree(dir: string): void {
  if (!existsSync(dir)) return;
  const open = (p: string) => {
    const st = lstatSync(p);
    if (st.isSymbolicLink()) return;
    chmodSync(p, 0o700);
    if (st.isDirectory()) for (const name of readdirSync(p)) open(join(p, name));
  };
  try {
    open(dir);
  } catch {
    // best effort: rmSync below reports what really cannot go
  }
  rmSync(dir, { recursive: true, force: true });
}

/** Writes a password file with a trailing newline, as `echo secret > file` does. */
export function passwordFile(dir: string, name: string, password: string): string {
  const file = join(dir, name);
  writeFileSync(file, `${password}\n`, { mode: 0o644 });
  return file;
}

/** What a user would compare between an original tree and its restored copy. */
export interface EntryDescription {
  type: 'file' | 'dir' | 'symlink' | 'other';
  mode: number;
  mtimeMs: number;
  uid: number;
  gid: number;
  size?: number;
  sha256?: string;
  target?: string;
}

/** Every entry below `root` (root itself as ""), by relative path. */
export function describeTree(root: string): Map<string, EntryDescription> {
  const entries = new Map<string, EntryDescription>();
  const visit = (rel: string) => {
    const abs = rel === '' ? root : join(root, rel);
    const st = lstatSync(abs);
    const base = { mode: st.mode & 0o7777, mtimeMs: Math.floor(st.mtimeMs), uid: st.uid, gid: st.gid };
    if (st.isSymbolicLink()) {
      entries.set(rel, { type: 'symlink', ...base, target: readlinkSync(abs) });
    } else if (st.isFile()) {
      entries.set(rel, { type: 'file', ...base, size: st.size, sha256: createHash('sha256').update(readFileSync(abs)).digest('hex') });
    } else if (st.isDirectory()) {
      entries.set(rel, { type: 'dir', ...base });
      for (const name of readdirSync(abs).sort()) visit(rel === '' ? name : join(rel, name));
    } else {
      entries.set(rel, { type: 'other', ...base });
    }
  };
  visit('');
  return entries;
}
