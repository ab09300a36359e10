/**
 * `coffer repo` on remote storage, with real servers on loopback: an S3-compatible server
 * and OpenSSH's sftp. Several backups into one S3 repository at once with prune running, an
 * offsite copy from S3 to SFTP, and a writer whose SFTP account may not delete anything.
 * Runs the built binary; build first.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startS3TestServer, startSftpTestServer, S3TestServer, SftpTestServer } from '@coffer/storage/dist/testing';
import { assertBuilt, COFFER_BIN, CofferRun, describeTree, passwordFile, removeTree, tempDir } from './test-support/coffer-process';

let base: string;
let s3: S3TestServer;
let sftp: SftpTestServer;
let password: string;
let env: Record<string, string>;

beforeAll(async () => {
  assertBuilt();
  base = tempDir('remote');
  password = passwordFile(base, 'password', 'remote storage password');
  [s3, sftp] = await Promise.all([startS3TestServer(), startSftpTestServer()]);
  env = { ...s3.env, ...(sftp.env as Record<string, string>), COFFER_PASSWORD_FILE: password, COFFER_CACHE_DIR: join(base, 'cache') };
});

afterAll(async () => {
  await Promise.all([s3?.stop(), sftp?.stop()]);
  removeTree(base);
});


// eslint-disable-next-line @typescript-eslint/no-explicit-any
function json(result: CofferRun): any {
  if (result.status !== 0) throw new Error(`coffer exited with ${result.status}:\n${result.stderr}`);
  return JSON.parse(result.stdout);
}

/**
 * `coffer repo ARGS --repo LOCATION`, without blocking this process: the S3 server runs in
 * it, and commands must overlap.
 */
function repo(args: string[], location: string): Promise<CofferRun> {
  return run(['repo', ...args, '--repo', location]);
}

function run(args: string[], extraEnv: Record<string, string> = {}): Promise<CofferRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [COFFER_BIN, ...args], { env: { PATH: process.env.PATH, ...env, ...extraEnv } });
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout: Buffer.concat(out).toString('utf8'), stderr, stdoutBytes: Buffer.concat(out) }));
  });
}

function sourceTree(name: string, sharedSeed: Buffer): string {
  const dir = join(base, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'shared.bin'), sharedSeed); // the same in every tree: stored once
  writeFileSync(join(dir, 'own.bin'), randomBytes(1024 * 1024 + name.length));
  writeFileSync(join(dir, 'notes.txt'), `notes of ${name}\n`);
  return dir;
}

describe('remote repositories', () => {
  const shared = randomBytes(3 * 1024 * 1024);
  let s3Repo: string;
  let sources: string[];
  let snapshotIds: string[];

  it('takes five backups into one S3 repository at once, with forget and prune running beside them', async () => {
    s3Repo = s3.location('fleet');
    json(await repo(['init', '--json'], s3Repo));
    sources = ['web-1', 'web-2', 'db-1', 'cache-1', 'web-1b'].map((name) => sourceTree(name, shared));
    // Garbage for prune to find: a snapshot whose data the next one of its group replaces.
    const oldSrc = join(base, 'old');
    mkdirSync(oldSrc);
    writeFileSync(join(oldSrc, 'data.bin'), randomBytes(2 * 1024 * 1024));
    json(await repo(['backup', oldSrc, '--host', 'old', '--json'], s3Repo));
    writeFileSync(join(oldSrc, 'data.bin'), randomBytes(2 * 1024 * 1024));
    json(await repo(['backup', oldSrc, '--host', 'old', '--json'], s3Repo));

    const hosts = ['web-1', 'web-2', 'db-1', 'cache-1', 'web-1'];
    const backups = sources.map((src, i) => repo(['backup', src, '--host', hosts[i], '--json'], s3Repo));
    const forget = json(await repo(['forget', '--host', 'old', '--keep-last', '1', '--json'], s3Repo));
    expect(forget.removed).toHaveLength(1);
    const prune = repo(['prune', '--json'], s3Repo);
    const results = await Promise.all(backups);
    snapshotIds = results.map((r) => json(r).id);
    // The forgotten snapshot's pack is deleted, or marked and waiting for the backups running then.
    const pruned = json(await prune);
    expect(pruned.packsDeleted + pruned.packsPending).toBeGreaterThanOrEqual(1);
    // Writers that start together each store the shared 3 MiB (none has published an index
    // yet); the next prune keeps one copy, and data is stored once: five own files of 1 MiB,
    // the shared 3 MiB and the old host's last 2 MiB.
    expect(json(await repo(['prune', '--json'], s3Repo)).packsPending).toBe(0);
    expect(json(await repo(['stats', '--json'], s3Repo)).storedBytes).toBeLessThan((5 + 3 + 2) * 1024 * 1024 + 512 * 1024);
    // A backup that starts after them deduplicates against all of it.
    const later = json(await repo(['backup', sourceTree('web-3', shared), '--host', 'web-3', '--json'], s3Repo));
    expect(later.stats.bytesNew).toBeLessThan(1024 * 1024 + 64 * 1024);
    expect(json(await repo(['check', '--read-data', '--json'], s3Repo)).errors).toEqual([]);
    for (const [i, src] of sources.entries()) {
      const target = join(base, `restore-s3-${i}`);
      json(await repo(['restore', snapshotIds[i], '--target', target, '--json'], s3Repo));
      expect(describeTree(join(target, src))).toEqual(describeTree(src));
    }
  });

  it('copies every snapshot from S3 to SFTP, then nothing on a second run; the copy checks clean and restores', async () => {
    const sftpRepo = sftp.location('offsite');
    json(await repo(['init', '--json'], sftpRepo));
    const passwords = { COFFER_FROM_PASSWORD_FILE: password, COFFER_TO_PASSWORD_FILE: password };
    const first = json(await run(['repo', 'copy', '--from', s3Repo, '--to', sftpRepo, '--json'], passwords));
    expect(first.copied).toHaveLength(7); // the five, the later one, and the old host's last
    const again = json(await run(['repo', 'copy', '--from', s3Repo, '--to', sftpRepo, '--json'], passwords));
    expect(again).toMatchObject({ copied: [], blobsCopied: 0, bytesCopied: 0 });
    expect(again.alreadyThere).toHaveLength(7);
    expect(json(await repo(['check', '--read-data', '--json'], sftpRepo)).errors).toEqual([]);
    const target = join(base, 'restore-sftp');
    const copyOfDb = first.copied.find((c: { source: string }) => c.source === snapshotIds[2]).target;
    json(await repo(['restore', copyOfDb, '--target', target, '--json'], sftpRepo));
    expect(describeTree(join(target, sources[2]))).toEqual(describeTree(sources[2]));
  });

  it('backs up with an SFTP account that may not delete; forget and prune need that right', async () => {
    const location = sftp.location('no-delete');
    json(await repo(['init', '--json'], location));
    const writer = location.replace(`:${sftp.port}/`, `:${sftp.noDeletePort}/`);
    expect(writer).not.toBe(location);
    const src = join(base, 'changing');
    mkdirSync(src);
    writeFileSync(join(src, 'data.bin'), randomBytes(1024 * 1024));
    json(await repo(['backup', src, '--json'], writer));
    writeFileSync(join(src, 'data.bin'), randomBytes(1024 * 1024));
    const latest = json(await repo(['backup', src, '--json'], writer));
    const denied = await repo(['forget', '--keep-last', '1'], writer);
    expect(denied.status).toBe(1);
    expect(denied.stderr).toMatch(/^coffer: .*refused to delete snapshots\/[0-9a-f]{64}: access denied/);
    expect(json(await repo(['forget', '--keep-last', '1', '--json'], location)).removed).toHaveLength(1);
    const pruned = json(await repo(['prune', '--json'], location));
    expect(pruned).toMatchObject({ packsDeleted: 1, packsPending: 0 });
    expect(json(await repo(['check', '--read-data', '--json'], location)).errors).toEqual([]);
    const target = join(base, 'restore-no-delete');
    json(await repo(['restore', latest.id, '--target', target, '--json'], location));
    expect(describeTree(join(target, src))).toEqual(describeTree(src));
  });
});
