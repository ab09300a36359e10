/**
 * Helpers of the repository's integration tests (*.int-spec.ts): temp dirs, quick repositories,
 * deterministic test data, byte-for-byte tree comparison and access to the stored objects.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { createCipheriv, createHash } from 'node:crypto';
import {
  chmodSync,
  mkdirSync,
  writeFileSync,
  closeSync,
  lstatSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  readSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { openStorage, Storage } from '@coffer/storage';
import { InitOptions, Repository } from '../repository';

// Backups are fed by the files source in real use, so these end-to-end tests use it too; the
// repository library itself never imports it (eslint.config.mjs allows it here only).
export { walkFiles } from '@coffer/sources';

/** scrypt cost low enough that opening a repository is instant. */
export const FAST_SCRYPT = { N: 1024, r: 8, p: 1 };
export const PASSWORD = 'correct horse battery staple';
export const MiB = 1024 * 1024;

/** A fresh directory under the system temp dir; removeTempDirs() deletes every one made. */
const made: string[] = [];
export function tempDir(label: string): string {
  const dir = mkdtempSync(join(tmpdir(), `coffer-it-${label}-`));
  made.push(dir);
  return dir;
}

export function removeTempDirs(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export async function initRepo(dir: string, options: InitOptions = {}, storage: Storage = openStorage(dir)): Promise<Repository> {
  return Repository.init(storage, PASSWORD, { scrypt: FAST_SCRYPT, ...options });
}

/** A fresh Repository object on `dir`, as a new process would have. */
export function openRepo(dir: string): Promise<Repository> {
  return Repository.open(openStorage(dir), PASSWORD);
}

/**
 * Deterministic pseudo-random bytes (AES-256-CTR keystream of `seed`), fast enough for hundreds
 * of MiB. With `compressible`, every 64 KiB block keeps its first `compressible` share random and
 * fills the rest with text, so zstd has something to save but chunks never repeat.
 */
export class ByteStream {
  private readonly cipher;
  private readonly zeros = Buffer.alloc(64 * 1024);

  constructor(seed: string, private readonly compressible = 0) {
    const key = createHash('sha256').update(`key:${seed}`).digest();
    const iv = createHash('sha256').update(`iv:${seed}`).digest().subarray(0, 16);
    this.cipher = createCipheriv('aes-256-ctr', key, iv);
  }

  next(length: number): Buffer {
    const out = Buffer.allocUnsafe(length);
    for (let at = 0; at < length; at += this.zeros.length) {
      const n = Math.min(this.zeros.length, length - at);
      const block = this.cipher.update(this.zeros.subarray(0, n));
      if (this.compressible > 0) {
        const keep = Math.floor(n * (1 - this.compressible));
        const text = Buffer.from(`line ${at} of some compressible text, block ${block[0]}\n`);
        for (let i = keep; i < n; i += text.length) text.copy(block, i, 0, Math.min(text.length, n - i));
      }
      block.copy(out, at);
    }
    return out;
  }
}

/** Writes `size` bytes of `stream` (in 4 MiB pieces) to `path`; returns their SHA-256. */
export function writeStreamFile(path: string, size: number, stream: ByteStream, prefix?: Buffer): string {
  const hash = createHash('sha256');
  const fd = openSync(path, 'w');
  try {
    if (prefix) {
      writeSync(fd, prefix);
      hash.update(prefix);
    }
    for (let done = 0; done < size; ) {
      const piece = stream.next(Math.min(4 * MiB, size - done));
      for (let off = 0; off < piece.length; ) off += writeSync(fd, piece, off);
      hash.update(piece);
      done += piece.length;
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

export function sha256File(path: string): string {
  const hash = createHash('sha256');
  const fd = openSync(path, 'r');
  const buf = Buffer.allocUnsafe(4 * MiB);
  try {
    for (let n; (n = readSync(fd, buf, 0, buf.length, null)) > 0; ) hash.update(buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

/** What a user would compare of one filesystem entry. */
export interface EntryFacts {
  type: 'file' | 'dir' | 'symlink' | 'other';
  /** Permission and set-id/sticky bits; not compared for symlinks (always 0777 on Linux). */
  mode?: number;
  /** Modification time in whole milliseconds. */
  mtimeMs: bigint;
  size?: number;
  sha256?: string;
  target?: string;
  uid: number;
  gid: number;
  ino: bigint;
  nlink: number;
}

/** Every entry below `root` (not root itself), keyed by path relative to root. */
export function snapshotTree(root: string): Map<string, EntryFacts> {
  const out = new Map<string, EntryFacts>();
  const visit = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      const st = lstatSync(path, { bigint: true });
      const facts: EntryFacts = {
        type: st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : 'other',
        mtimeMs: st.mtimeNs / 1_000_000n,
        uid: Number(st.uid),
        gid: Number(st.gid),
        ino: st.ino,
        nlink: Number(st.nlink),
      };
      if (facts.type !== 'symlink') facts.mode = Number(st.mode & 0o7777n);
      if (facts.type === 'file') {
        facts.size = Number(st.size);
        facts.sha256 = st.size < 4 * MiB ? createHash('sha256').update(readFileSync(path)).digest('hex') : sha256File(path);
      }
      if (facts.type === 'symlink') facts.target = readlinkSync(path);
      out.set(relative(root, path), facts);
      if (facts.type === 'dir') visit(path);
    }
  };
  visit(root);
  return out;
}

/**
 * Differences between two trees, as readable lines ("" when equal): missing or extra paths and
 * every differing fact. Inode numbers are compared as hard-link groups, not values.
 */
export function diffTrees(expected: Map<string, EntryFacts>, actual: Map<string, EntryFacts>, options: { owners?: boolean } = {}): string[] {
  const problems: string[] = [];
  for (const path of expected.keys()) if (!actual.has(path)) problems.push(`missing: ${path}`);
  for (const path of actual.keys()) if (!expected.has(path)) problems.push(`extra: ${path}`);
  const keys: Array<keyof EntryFacts> = ['type', 'mode', 'mtimeMs', 'size', 'sha256', 'target', 'nlink'];
  if (options.owners) keys.push('uid', 'gid');
  for (const [path, want] of expected) {
    const got = actual.get(path);
    if (!got) continue;
    for (const key of keys) {
      if (key === 'nlink' && want.type === 'dir') continue; // a directory's count depends on its subdirectories only
      if (want[key] !== got[key]) problems.push(`${path}: ${key} ${String(want[key])} → ${String(got[key])}`);
    }
  }
  // Hard links: names sharing an inode on one side must share one on the other.
  const groups = (m: Map<string, EntryFacts>) => {
    const byIno = new Map<bigint, string[]>();
    for (const [path, f] of m) if (f.type === 'file' && f.nlink > 1) byIno.set(f.ino, [...(byIno.get(f.ino) ?? []), path]);
    return [...byIno.values()].map((g) => g.sort().join(' = ')).sort();
  };
  const a = groups(expected);
  const b = groups(actual);
  if (JSON.stringify(a) !== JSON.stringify(b)) problems.push(`hard-link groups ${JSON.stringify(a)} → ${JSON.stringify(b)}`);
  return problems;
}

/** One stored object of a local repository: its logical name and its file. */
export interface StoredObject {
  name: string;
  /** The id in the name (hex), or "config". */
  id: string;
  kind: 'config' | 'keys' | 'index' | 'snapshots' | 'data' | 'locks';
  path: string;
  size: number;
}

/** Every object file of a local repository, found by walking its directory. */
export function storedObjects(repoDir: string): StoredObject[] {
  const out: StoredObject[] = [];
  const visit = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        visit(path);
        continue;
      }
      if (entry.name.startsWith('.tmp-')) continue;
      const rel = relative(repoDir, path).split('/');
      const kind = rel[0] as StoredObject['kind'];
      const id = rel[rel.length - 1];
      out.push({ name: kind === 'config' ? 'config' : `${kind}/${id}`, id, kind, path, size: statSync(path).size });
    }
  };
  visit(repoDir);
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

export function objectsOf(repoDir: string, kind: StoredObject['kind']): StoredObject[] {
  return storedObjects(repoDir).filter((o) => o.kind === kind);
}

/** Flips every bit of the byte at `offset` of a stored (read-only) object; returns the undo. */
export function flipByte(path: string, offset: number): () => void {
  const mode = statSync(path).mode & 0o7777;
  chmodSync(path, 0o644);
  const fd = openSync(path, 'r+');
  const byte = Buffer.alloc(1);
  readSync(fd, byte, 0, 1, offset);
  const original = byte[0];
  byte[0] ^= 0xff;
  writeSync(fd, byte, 0, 1, offset);
  closeSync(fd);
  chmodSync(path, mode);
  return () => {
    chmodSync(path, 0o644);
    const fd2 = openSync(path, 'r+');
    writeSync(fd2, Buffer.of(original), 0, 1, offset);
    closeSync(fd2);
    chmodSync(path, mode);
  };
}

/** A Writable collecting what is written to it. */
export function collector(): Writable & { bytes(): Buffer } {
  const parts: Buffer[] = [];
  const w = new Writable({
    write(chunk: Buffer, _enc, done) {
      parts.push(Buffer.from(chunk));
      done();
    },
  });
  return Object.assign(w, { bytes: () => Buffer.concat(parts) });
}

/** The rejection of a promise (fails the test if it resolves). */
export async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the promise to reject, but it resolved');
}

export const isRoot = process.getuid?.() === 0;

/** The built libraries (what a CLI process runs), for child processes. */
const LIBS = resolve(__dirname, '../../..');

/** Random (incompressible) files of `sizes` MiB in a new directory. */
export function randomTree(dir: string, sizes: number[], seed: string): string {
  mkdirSync(dir, { recursive: true });
  const stream = new ByteStream(seed);
  sizes.forEach((size, i) => writeStreamFile(join(dir, `part-${i}.bin`), size * MiB, stream));
  return dir;
}

export function expectSameTree(src: string, target: string): void {
  expect(diffTrees(snapshotTree(src), snapshotTree(join(target, src)))).toEqual([]);
}

/** A node script run as a separate process, with the built libraries. */
export function runChild(name: string, body: string, args: string[]): { child: ChildProcess; output: () => string; exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> } {
  const script = join(tempDir('child'), `${name}.js`);
  writeFileSync(
    script,
    `'use strict';
const { Repository, backupFiles, acquireLock } = require(${JSON.stringify(join(LIBS, 'repository/dist'))});
const { openStorage } = require(${JSON.stringify(join(LIBS, 'storage/dist'))});
const { walkFiles } = require(${JSON.stringify(join(LIBS, 'sources/dist'))});
const fs = require('node:fs');
const args = process.argv.slice(2);
(async () => {
${body}
})().catch((err) => { console.error(err); process.exit(3); });
`,
  );
  const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => child.on('exit', (code, signal) => done({ code, signal })));
  return { child, output: () => output, exited };
}

export async function waitFor(what: string, condition: () => boolean, exited: Promise<unknown>, output: () => string, timeoutMs = 90_000): Promise<void> {
  let gone = false;
  void exited.then(() => (gone = true));
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (gone) throw new Error(`the child exited before ${what}:\n${output()}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${output()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
