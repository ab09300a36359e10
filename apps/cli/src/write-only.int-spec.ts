/**
 * Write-only keys as a fleet host uses them: it backs up (deduplicating against what is
 * stored, skipping unchanged files) and can read nothing back; the owner's full key reads
 * everything the host wrote. Runs the built binary; build first.
 */
import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assertBuilt, coffer, CofferRun, describeTree, passwordFile, removeTree, tempDir } from './test-support/coffer-process';

const REFUSAL = 'coffer: this key can write but not read: use a full key to list, restore or verify data\n';

let base: string;
let repo: string;
let src: string;
let owner: string;
let host: string;
let cacheDir: string;

function run(args: string[], password: string): CofferRun {
  return coffer(['repo', ...args, '--repo', repo, '--password-file', password], { env: { COFFER_CACHE_DIR: cacheDir } });
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function json(result: CofferRun): any {
  if (result.status !== 0) throw new Error(`coffer exited with ${result.status}:\n${result.stderr}`);
  return JSON.parse(result.stdout);
}

beforeAll(() => {
  assertBuilt();
  base = tempDir('write-only');
  repo = join(base, 'repo');
  src = join(base, 'src');
  cacheDir = join(base, 'cache');
  mkdirSync(join(src, 'docs'), { recursive: true });
  writeFileSync(join(src, 'big.bin'), randomBytes(3 * 1024 * 1024));
  writeFileSync(join(src, 'docs', 'notes.txt'), 'first line\n');
  owner = passwordFile(base, 'owner', 'owner password');
  host = passwordFile(base, 'host', 'host password');
  json(coffer(['repo', 'init', '--repo', repo, '--password-file', owner, '--json']));
});

afterAll(() => removeTree(base));

describe('a write-only key', () => {
  let first: string;

  it('is added by a full key and listed as write-only', () => {
    const added = json(run(['key', 'add', '--write-only', '--new-password-file', host, '--json'], owner));
    expect(added).toEqual({ id: expect.stringMatching(/^[0-9a-f]{64}$/), writeOnly: true });
    const keys = json(run(['key', 'list', '--json'], owner));
    expect(keys.map((k: { writeOnly: boolean }) => k.writeOnly).sort()).toEqual([false, true]);
  });

  it('backs up, deduplicating against data stored by a full key', () => {
    json(run(['backup', src, '--json'], owner));
    const backup = json(run(['backup', src, '--json'], host));
    first = backup.id;
    expect(backup.stats.bytesRead).toBe(3 * 1024 * 1024 + 11);
    expect(backup.stats.bytesNew).toBeLessThan(4096); // only the listings: the content was stored
  });

  it('skips unchanged files on its next backup, from its local cache', () => {
    appendFileSync(join(src, 'docs', 'notes.txt'), 'second line\n');
    const next = json(run(['backup', src, '--json'], host));
    expect(next.parent).toBe(first);
    expect(next.stats.bytesRead).toBe(23); // big.bin was not read again
  });

  it.each([
    ['snapshots', ['snapshots']],
    ['ls', ['ls', 'latest']],
    ['restore', ['restore', 'latest', '--target', '/tmp/never-written']],
    ['dump', ['dump', 'latest', `${src}/docs/notes.txt`]],
    ['check --read-data', ['check', '--read-data']],
    ['forget', ['forget', '--keep-last', '1']],
    ['prune', ['prune']],
  ])('refuses %s with one clear line', (_, args) => {
    const result = run(args, host);
    expect(result.stderr).toBe(REFUSAL);
    expect(result.status).toBe(1);
  });

  it('cannot remove the owner key', () => {
    const ownerKey = json(run(['key', 'list', '--json'], owner)).find((k: { writeOnly: boolean }) => !k.writeOnly).id;
    const result = run(['key', 'remove', ownerKey.slice(0, 8)], host);
    expect(result.stderr).toBe('coffer: a write-only key cannot remove keys: open the repository with a full key\n');
    expect(result.status).toBe(1);
  });

  it('wrote snapshots a full key lists, checks and restores byte for byte', () => {
    const snapshots = json(run(['snapshots', '--json'], owner));
    expect(snapshots).toHaveLength(3);
    expect(json(run(['check', '--read-data', '--json'], owner)).errors).toEqual([]);
    const target = join(base, 'restored');
    json(run(['restore', 'latest', '--target', target, '--json'], owner));
    expect(describeTree(join(target, src))).toEqual(describeTree(src));
  });
});
