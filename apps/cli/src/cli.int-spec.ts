/**
 * `coffer repo …` as a user meets it: the real built binary in a child process, real files
 * in temp dirs, and assertions on what a person would notice — exit codes, the one-line
 * errors, what comes back from a restore. Build first: `npx tsc -b tsconfig.build.json`.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { acquireLock, Repository } from '@coffer/repository';
import { openStorage } from '@coffer/storage';
import { assertBuilt, coffer, CofferRun, describeTree, passwordFile, removeTree, RunOptions, tempDir } from './test-support/coffer-process';

const HEX64 = /^[0-9a-f]{64}$/;

/** A failure as the CLI must report it: exit 1, exactly one line on stderr, no stack trace. */
function expectFailure(run: CofferRun, message: string): void {
  expect(run.stderr).toBe(`coffer: ${message}\n`);
  expect(run.status).toBe(1);
}

function expectSuccess(run: CofferRun): CofferRun {
  if (run.status !== 0) throw new Error(`coffer exited with ${run.status}:\n${run.stderr}`);
  return run;
}

/** The command's JSON document; its shape is what the assertions check. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function json<T = any>(run: CofferRun): T {
  expectSuccess(run);
  return JSON.parse(run.stdout) as T;
}

/** Sum of the sizes of every file under `dir`. */
function bytesUnder(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += statSync(join(entry.parentPath ?? entry.path, entry.name)).size;
  }
  return total;
}

/**
 * A tree with what tends to break backup tools: empty files and directories, symlinks
 * (relative, to a directory, dangling), unicode and space-laden names, odd modes, old
 * mtimes with milliseconds, and a file large enough for several chunks.
 */
function makeAwkwardTree(root: string): void {
  mkdirSync(root);
  writeFileSync(join(root, 'empty-file'), '');
  mkdirSync(join(root, 'empty-dir'));
  mkdirSync(join(root, 'nested', 'a', 'b', 'c'), { recursive: true });
  writeFileSync(join(root, 'nested', 'a', 'b', 'c', 'deep.txt'), 'deep down\n'.repeat(1000));
  writeFileSync(join(root, 'nested', 'a', 'sibling.txt'), 'next to b\n');
  symlinkSync('nested/a/b/c/deep.txt', join(root, 'link-to-file'));
  symlinkSync('nested', join(root, 'link-to-dir'));
  symlinkSync('does/not/exist', join(root, 'dangling link'));
  writeFileSync(join(root, 'name with  two spaces.txt'), 'spaces\n');
  writeFileSync(join(root, 'ünïcödé-файл-名前 🙂.txt'), 'unicode\n');
  mkdirSync(join(root, 'space dir'));
  writeFileSync(join(root, 'space dir', 'inner file'), 'inner\n');
  writeFileSync(join(root, 'run.sh'), '#!/bin/sh\necho hi\n', { mode: 0o755 });
  writeFileSync(join(root, 'secret'), 'private\n', { mode: 0o600 });
  chmodSync(join(root, 'secret'), 0o600);
  writeFileSync(join(root, 'random.bin'), randomBytes(5 * 1024 * 1024 + 123));
  writeFileSync(join(root, 'old.txt'), 'from the past\n');
  utimesSync(join(root, 'old.txt'), 1_500_000_000.123, 1_500_000_000.123);
  mkdirSync(join(root, 'private-dir'), { mode: 0o700 });
  writeFileSync(join(root, 'private-dir', 'x'), 'x');
  chmodSync(join(root, 'private-dir'), 0o750);
  // Directory mtimes last, since writing inside a directory changes its own.
  utimesSync(join(root, 'nested', 'a'), 1_600_000_000.456, 1_600_000_000.456);
  utimesSync(join(root, 'empty-dir'), 1_550_000_000.789, 1_550_000_000.789);
}

let base: string;

beforeAll(() => {
  assertBuilt();
  base = tempDir('spec');
  chmodSync(base, 0o755); // the unreadable-file test runs the CLI as another user
});

afterAll(() => removeTree(base));

describe('coffer repo: one repository through its life', () => {
  let dir: string;
  let repo: string;
  let src: string;
  let env: Record<string, string>;
  const run = (args: string[], options: RunOptions = {}) => coffer(['repo', ...args], { ...options, env: { ...env, ...options.env } });
  const snapshotIds = () => json<Array<{ id: string }>>(run(['snapshots', '--json'])).map((s) => s.id);
  let firstId: string;

  beforeAll(() => {
    dir = join(base, 'life');
    mkdirSync(dir);
    repo = join(dir, 'repo');
    src = join(dir, 'src');
    makeAwkwardTree(src);
    env = { COFFER_REPOSITORY: repo, COFFER_PASSWORD_FILE: passwordFile(dir, 'password', 'correct horse battery staple') };
  });

  it('init creates the repository, names it, and warns that the password cannot be recovered', () => {
    const init = expectSuccess(run(['init']));
    expect(init.stdout).toMatch(new RegExp(`^created repository [0-9a-f]{32} at ${repo}\n`));
    expect(init.stdout).toMatch(/without it the data in this repository cannot be read/);
    expect(init.stderr).toBe('');
  });

  it('refuses init on an existing repository and leaves it usable', () => {
    expectFailure(run(['init']), `a repository already exists at ${repo}`);
    expect(json(run(['snapshots', '--json']))).toEqual([]);
  });

  it('backs up a tree quietly when stderr is not a terminal, and says which snapshot it saved', () => {
    const backup = expectSuccess(run(['backup', src, '--tag', 'first']));
    expect(backup.stderr).toBe(''); // no progress noise into logs and pipes
    expect(backup.stdout).toMatch(/^Files: +11 files, 8 directories$/m);
    const saved = /^snapshot ([0-9a-f]{8}) saved$/m.exec(backup.stdout);
    expect(saved).not.toBeNull();
    const ids = snapshotIds();
    expect(ids).toHaveLength(1);
    expect(ids[0].startsWith(saved![1])).toBe(true);
    firstId = ids[0];
  });

  it('restores the tree byte for byte with modes, owners and mtimes', () => {
    const target = join(dir, 'restore-all');
    const restore = expectSuccess(run(['restore', 'latest', '--target', target]));
    expect(restore.stdout).toMatch(/^restored 11 files, \d+ directories, 3 symlinks/);
    const original = describeTree(src);
    const restored = describeTree(join(target, src));
    expect([...restored.keys()]).toEqual([...original.keys()]);
    for (const [path, entry] of original) expect({ path, ...restored.get(path) }).toEqual({ path, ...entry });
  });

  it('restores only what --include selects', () => {
    const target = join(dir, 'restore-some');
    expectSuccess(run(['restore', firstId.slice(0, 8), '--target', target, '--include', '*.txt']));
    const restored = [...describeTree(join(target, src)).entries()].filter(([, e]) => e.type !== 'dir').map(([p]) => p);
    expect(restored.sort()).toEqual(['name with  two spaces.txt', 'nested/a/b/c/deep.txt', 'nested/a/sibling.txt', 'old.txt', 'ünïcödé-файл-名前 🙂.txt'].sort());
  });

  it('refuses to restore into a non-empty target without --overwrite, and overwrites with it', () => {
    const target = join(dir, 'restore-busy');
    mkdirSync(target);
    writeFileSync(join(target, 'already-here'), 'mine');
    expectFailure(run(['restore', 'latest', '--target', target]), `restore target ${target} is not empty: restore into an empty directory, or add --overwrite to replace what is there`);
    expect(readdirSync(target)).toEqual(['already-here']);
    expectSuccess(run(['restore', 'latest', '--target', target, '--overwrite']));
    expect(describeTree(join(target, src)).get('random.bin')).toEqual(describeTree(src).get('random.bin'));
  });

  it('re-reads nothing when nothing changed, and records the parent', () => {
    const second = json(run(['backup', src, '--json']));
    expect(second.id).toMatch(HEX64);
    expect(second.parent).toBe(firstId);
    expect(second.stats).toMatchObject({ files: 11, bytesRead: 0 });
    // Only directory listings can be new: the directories above src changed as tests wrote beside it.
    expect(second.stats.bytesNew).toBeLessThan(4096);
    expect(second.stats.totalBytes).toBeGreaterThan(5 * 1024 * 1024);
    expect(second.warnings).toEqual([]);
    // --force compares with no parent: every file is read again, still nothing new stored
    const forced = json(run(['backup', src, '--json', '--force']));
    expect(forced.parent).toBeNull();
    expect(forced.stats.bytesRead).toBe(forced.stats.totalBytes);
    expect(forced.stats.bytesNew).toBeLessThan(4096);
  });

  it('lists snapshots as a table and as JSON, with filters', () => {
    const table = expectSuccess(run(['snapshots']));
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID +Time +Host +Tags +Paths +Size$/);
    expect(lines[2]).toMatch(new RegExp(`^${firstId.slice(0, 8)}  \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d  \\S+ +first +${src} +5\\.\\d\\d MiB$`));
    expect(lines[lines.length - 1]).toBe('3 snapshots');
    const all = json(run(['snapshots', '--json']));
    expect(all).toHaveLength(3);
    expect(all[0]).toMatchObject({ id: firstId, sourceKind: 'files', paths: [src], tags: ['first'], parent: null });
    expect(json(run(['snapshots', '--json', '--tag', 'first'])).map((s: { id: string }) => s.id)).toEqual([firstId]);
    expect(json(run(['snapshots', '--json', '--host', 'no-such-host']))).toEqual([]);
  });

  it('ls lists every path, --long shows symlink targets, --json parses', () => {
    const ls = expectSuccess(run(['ls', 'latest']));
    const paths = ls.stdout.trimEnd().split('\n');
    expect(paths).toContain(`${src}/ünïcödé-файл-名前 🙂.txt`);
    expect(paths).toContain(`${src}/space dir/inner file`);
    expect(paths).toContain(`${src}/empty-dir`);
    const long = expectSuccess(run(['ls', 'latest', `${src}/dangling link`, '--long']));
    expect(long.stdout).toMatch(/^lrwxrwxrwx .* -> does\/not\/exist\n$/);
    const entries = json(run(['ls', 'latest', `${src}/nested`, '--json']));
    expect(entries.map((e: { path: string }) => e.path)).toEqual([
      `${src}/nested`,
      `${src}/nested/a`,
      `${src}/nested/a/b`,
      `${src}/nested/a/b/c`,
      `${src}/nested/a/b/c/deep.txt`,
      `${src}/nested/a/sibling.txt`,
    ]);
    expect(entries[4]).toMatchObject({ type: 'file', size: 10_000, target: null });
  });

  it('dump writes one file, byte for byte, to stdout', () => {
    const dump = expectSuccess(run(['dump', 'latest', `${src}/random.bin`]));
    expect(dump.stdoutBytes.equals(readFileSync(join(src, 'random.bin')))).toBe(true);
    expectFailure(run(['dump', 'latest', `${src}/nested`]), `${src}/nested: is a directory, not a file`);
  });

  it('diff names what was added, removed, modified and changed type', () => {
    writeFileSync(join(src, 'added.txt'), 'new\n');
    unlinkSync(join(src, 'old.txt'));
    writeFileSync(join(src, 'nested', 'a', 'sibling.txt'), 'changed\n');
    unlinkSync(join(src, 'link-to-dir'));
    writeFileSync(join(src, 'link-to-dir'), 'now a file');
    const changed = json(run(['backup', src, '--json']));
    const diff = expectSuccess(run(['diff', firstId.slice(0, 8), changed.id.slice(0, 8)]));
    expect(diff.stdout).toContain(`+  ${src}/added.txt\n`);
    expect(diff.stdout).toContain(`-  ${src}/old.txt\n`);
    expect(diff.stdout).toContain(`M  ${src}/nested/a/sibling.txt\n`);
    expect(diff.stdout).toContain(`T  ${src}/link-to-dir\n`);
    expect(diff.stdout).toMatch(/1 added, 1 removed, 1 modified, 1 changed type\n$/);
    const asJson = json(run(['diff', firstId, 'latest', '--json']));
    expect(asJson.summary).toEqual({ added: 1, removed: 1, modified: 1, typeChanged: 1 });
    expect(asJson.changes).toContainEqual({ change: '+', path: `${src}/added.txt` });
  });

  it('check finds no errors, with and without reading the data', () => {
    expect(expectSuccess(run(['check'])).stdout).toMatch(/: no errors found\n$/);
    const full = json(run(['check', '--read-data', '--json']));
    expect(full).toMatchObject({ ok: true, errors: [], snapshots: 4, readDataPercent: 100 });
    expect(full.packsRead).toBe(full.packs);
    expect(json(run(['check', '--read-data-subset', '50%', '--json'])).readDataPercent).toBe(50);
    expectFailure(run(['check', '--read-data-subset', '150']), "option '--read-data-subset <percent>' argument '150' is invalid. give a percentage above 0 and at most 100, such as 10 or 2.5%.");
  });

  it('stats and unlock print JSON', () => {
    const stats = json(run(['stats', '--json']));
    expect(stats.snapshots).toBe(4);
    expect(stats.storedBytes).toBeGreaterThan(5 * 1024 * 1024);
    expect(stats.dedupRatio).toBeGreaterThan(3); // four snapshots of nearly the same files
    expect(json(run(['unlock', '--json']))).toEqual({ removed: 0 });
  });

  it('unlock leaves the lock of a live process alone; --all removes it', async () => {
    const repository = await Repository.open(openStorage(repo), 'correct horse battery staple');
    const lock = await acquireLock(repository, 'backup', false); // held by this (live) test process
    try {
      expect(json(run(['unlock', '--json']))).toEqual({ removed: 0 });
      expect(readdirSync(join(repo, 'locks'))).toHaveLength(1);
      expect(json(run(['unlock', '--all', '--json']))).toEqual({ removed: 1 });
      expect(readdirSync(join(repo, 'locks'))).toHaveLength(0);
    } finally {
      await lock.release();
    }
  });

  it('forget --dry-run changes nothing; forget removes; prune frees the space', () => {
    const dryRun = expectSuccess(run(['forget', '--keep-last', '1', '--dry-run']));
    expect(dryRun.stdout).toMatch(/would remove 3 snapshots of 4 \(dry run: nothing changed\)/);
    expect(dryRun.stdout).toMatch(/keep +[0-9a-f]{8} .*last snapshot/);
    expect(snapshotIds()).toHaveLength(4);

    // Data only the old snapshots hold: a big file backed up, then deleted.
    writeFileSync(join(src, 'big-and-gone.bin'), randomBytes(3 * 1024 * 1024));
    expectSuccess(run(['backup', src]));
    unlinkSync(join(src, 'big-and-gone.bin'));
    const kept = json(run(['backup', src, '--json'])).id;
    const before = bytesUnder(join(repo, 'data'));

    const forget = json(run(['forget', '--keep-last', '1', '--json']));
    expect(forget.dryRun).toBe(false);
    expect(forget.removed).toHaveLength(5);
    expect(forget.groups[0].keep.map((k: { id: string }) => k.id)).toEqual([kept]);
    expect(snapshotIds()).toEqual([kept]);

    const prune = json(run(['prune', '--json']));
    expect(prune.bytesFreed).toBeGreaterThan(3 * 1024 * 1024);
    expect(bytesUnder(join(repo, 'data'))).toBeLessThan(before - 3 * 1024 * 1024);
    expect(json(run(['check', '--read-data', '--json'])).ok).toBe(true);
    const target = join(dir, 'after-prune');
    expectSuccess(run(['restore', 'latest', '--target', target]));
    expect(describeTree(join(target, src)).get('random.bin')).toEqual(describeTree(src).get('random.bin'));
  });

  it('backs up a stream from stdin and dumps it back', () => {
    const data = randomBytes(2 * 1024 * 1024 + 7);
    const backup = json(run(['backup', '--stdin', '--stdin-filename', 'appdb.dump', '--json'], { input: data }));
    expect(backup).toMatchObject({ sourceKind: 'stdin', paths: ['/appdb.dump'], stats: { files: 1, totalBytes: data.length } });
    expect(expectSuccess(run(['dump', backup.id.slice(0, 8), '/appdb.dump'])).stdoutBytes.equals(data)).toBe(true);
  });

  it('records paths given relative to the working directory as absolute', () => {
    const backup = json(run(['backup', 'src', '--json'], { cwd: dir }));
    expect(backup.paths).toEqual([src]);
    expect(backup.stats.bytesRead).toBe(0); // same paths as before, so the same parent
  });
});

describe('coffer repo: a corrupted stored object', () => {
  it('check --read-data names it; restore fails loudly for the affected file and restores the others', () => {
    const dir = join(base, 'corrupt');
    mkdirSync(dir);
    const src = join(dir, 'src');
    mkdirSync(src);
    const contents = { one: randomBytes(1024 * 1024), two: randomBytes(1024 * 1024) };
    for (const [name, data] of Object.entries(contents)) writeFileSync(join(src, name), data);
    const env = { COFFER_REPOSITORY: join(dir, 'repo'), COFFER_PASSWORD_FILE: passwordFile(dir, 'password', 'pw') };
    expectSuccess(coffer(['repo', 'init'], { env }));
    expectSuccess(coffer(['repo', 'backup', src], { env }));
    const packs = readdirSync(join(dir, 'repo', 'data'), { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
    expect(packs).toHaveLength(1);
    const pack = join(packs[0].parentPath ?? packs[0].path, packs[0].name);
    const bytes = readFileSync(pack);
    bytes[Math.floor(bytes.length / 4)] ^= 0x01; // inside the file data, which comes before the trees
    writeFileSync(pack, bytes);

    const check = coffer(['repo', 'check', '--read-data'], { env });
    expect(check.status).toBe(1);
    const problems = check.stderr.trimEnd().split('\n');
    expect(problems.slice(0, -1).every((line) => /^error: (pack|blob) [0-9a-f]{64}.*corrupted/.test(line))).toBe(true);
    expect(problems[problems.length - 1]).toBe(`coffer: the repository has ${problems.length - 1} errors (listed above)`);

    const target = join(dir, 'restored');
    const restore = coffer(['repo', 'restore', 'latest', '--target', target], { env });
    expect(restore.status).toBe(1);
    expect(restore.stderr).toMatch(new RegExp(`^error: ${src}/(one|two): .*corrupted.*\n` + 'coffer: 1 path could not be restored \\(named above\\); the others were restored\n$'));
    const damaged = /src\/(one|two):/.exec(restore.stderr)![1];
    const intact = damaged === 'one' ? 'two' : 'one';
    expect(existsSync(join(target, src, damaged))).toBe(false);
    expect(readFileSync(join(target, src, intact)).equals(contents[intact])).toBe(true);
  });
});

describe('coffer repo: a damaged snapshot object', () => {
  it('is left out of listings with a warning, and "latest" still restores from the others', () => {
    const dir = join(base, 'damaged-snapshot');
    mkdirSync(dir);
    const src = join(dir, 'src');
    mkdirSync(src);
    writeFileSync(join(src, 'file'), 'first version\n');
    const env = { COFFER_REPOSITORY: join(dir, 'repo'), COFFER_PASSWORD_FILE: passwordFile(dir, 'password', 'pw') };
    expectSuccess(coffer(['repo', 'init'], { env }));
    const older = json(expectSuccess(coffer(['repo', 'backup', src, '--json'], { env })));
    writeFileSync(join(src, 'file'), 'second version\n');
    const newer = json(expectSuccess(coffer(['repo', 'backup', src, '--json'], { env })));
    const damagedPath = join(dir, 'repo', 'snapshots', newer.id.slice(0, 2), newer.id);
    const bytes = readFileSync(damagedPath);
    bytes[bytes.length - 1] ^= 0x01;
    chmodSync(damagedPath, 0o644);
    writeFileSync(damagedPath, bytes);

    const warning = `coffer: warning: snapshot ${newer.id} does not match its name (corrupted): left out (run "coffer repo check")\n`;
    const list = coffer(['repo', 'snapshots', '--json'], { env });
    expect(list.status).toBe(0);
    expect(list.stderr).toBe(warning);
    expect(json(list).map((s: { id: string }) => s.id)).toEqual([older.id]);

    const target = join(dir, 'restored');
    const restore = coffer(['repo', 'restore', 'latest', '--target', target], { env });
    expect(restore.status).toBe(0);
    expect(restore.stderr).toBe(warning);
    expect(readFileSync(join(target, src, 'file'), 'utf8')).toBe('first version\n');
  });
});

describe('coffer repo key: several passwords for one repository', () => {
  it('adds, lists, removes keys and changes a password; an old password then fails', () => {
    const dir = join(base, 'keys');
    mkdirSync(dir);
    const repo = join(dir, 'repo');
    const first = passwordFile(dir, 'first', 'first password');
    const second = passwordFile(dir, 'second', 'second password');
    const third = passwordFile(dir, 'third', 'third password');
    const as = (file: string, args: string[]) => coffer(['repo', ...args, '--password-file', file], { env: { COFFER_REPOSITORY: repo } });
    const wrongPassword = `wrong password: no key of the repository at ${repo} opens with it`;

    expectSuccess(as(first, ['init']));
    const added = expectSuccess(as(first, ['key', 'add', '--new-password-file', second]));
    expect(added.stdout).toMatch(/^added key [0-9a-f]{8}\n$/);

    const keys = json(as(second, ['key', 'list', '--json']));
    expect(keys).toHaveLength(2);
    expect(keys.filter((k: { current: boolean }) => k.current)).toHaveLength(1);
    expect(keys[0]).toMatchObject({ writeOnly: false, host: expect.any(String), created: expect.any(String) });
    const table = expectSuccess(as(first, ['key', 'list'])).stdout;
    expect(table).toMatch(/^ ID +Created +Host +User +Access$/m);
    expect(table.match(/^\*[0-9a-f]{8} /gm)).toHaveLength(1);

    const firstKey = keys.find((k: { current: boolean }) => !k.current).id; // listed with the second password
    expectFailure(as(first, ['key', 'remove', firstKey.slice(0, 8)]), 'refusing to remove the key in use: open the repository with another password to remove this one');
    expect(expectSuccess(as(second, ['key', 'remove', firstKey.slice(0, 8)])).stdout).toBe(`removed key ${firstKey.slice(0, 8)}\n`);
    expectFailure(as(first, ['snapshots']), wrongPassword);

    expectSuccess(as(second, ['key', 'passwd', '--new-password-file', third]));
    expectFailure(as(second, ['snapshots']), wrongPassword);
    expect(json(as(third, ['key', 'list', '--json']))).toHaveLength(1);
  });
});

describe('coffer repo: bad input gets one line naming the problem', () => {
  let dir: string;
  let repo: string;
  let env: Record<string, string>;

  beforeAll(() => {
    dir = join(base, 'bad');
    mkdirSync(dir);
    repo = join(dir, 'repo');
    env = { COFFER_REPOSITORY: repo, COFFER_PASSWORD_FILE: passwordFile(dir, 'password', 'right') };
    expectSuccess(coffer(['repo', 'init'], { env }));
    mkdirSync(join(dir, 'src'));
    writeFileSync(join(dir, 'src', 'f'), 'f');
    expectSuccess(coffer(['repo', 'backup', join(dir, 'src')], { env }));
  });

  it('a wrong password', () => {
    const wrong = passwordFile(dir, 'wrong', 'wrong');
    expectFailure(coffer(['repo', 'snapshots', '--password-file', wrong], { env }), `wrong password: no key of the repository at ${repo} opens with it`);
    expectFailure(coffer(['repo', 'snapshots'], { env: { ...env, COFFER_PASSWORD_FILE: undefined, COFFER_PASSWORD: 'wrong' } }), `wrong password: no key of the repository at ${repo} opens with it`);
  });

  it('a location that is not a repository', () => {
    const elsewhere = join(dir, 'src');
    expectFailure(coffer(['repo', 'snapshots', '--repo', elsewhere], { env }), `${elsewhere} is not a Coffer repository (it has no config)`);
  });

  it('an unknown snapshot id, and something that is no id at all', () => {
    expectFailure(coffer(['repo', 'ls', 'abcdef12'], { env }), `no snapshot abcdef12 in ${repo}`);
    expectFailure(coffer(['repo', 'restore', 'nonsense', '--target', join(dir, 'never')], { env }), '"nonsense" is not a snapshot id (give "latest" or at least 4 hex digits of an id)');
    expect(existsSync(join(dir, 'never'))).toBe(false);
  });

  it('a backup path that does not exist: no snapshot is written', () => {
    const missing = join(dir, 'no-such-dir');
    expectFailure(coffer(['repo', 'backup', join(dir, 'src'), missing], { env }), `cannot back up ${missing}: no such file or directory`);
    expect(json(coffer(['repo', 'snapshots', '--json'], { env }))).toHaveLength(1);
  });

  it('no password anywhere, with no terminal to ask at', () => {
    expectFailure(coffer(['repo', 'snapshots'], { env: { COFFER_REPOSITORY: repo } }), 'no password given: use --password-file, COFFER_PASSWORD_FILE or COFFER_PASSWORD');
  });

  it('an empty or unreadable password file', () => {
    const empty = join(dir, 'empty');
    writeFileSync(empty, '\n');
    expectFailure(coffer(['repo', 'snapshots', '--password-file', empty], { env }), `the password from the password file ${empty} is empty: an empty password would not protect anything`);
    const missing = join(dir, 'no-password-here');
    expectFailure(coffer(['repo', 'snapshots', '--password-file', missing], { env }), `cannot read the password file ${missing} (from --password-file): no such file`);
  });

  it('no repository given', () => {
    expectFailure(coffer(['repo', 'snapshots'], { env: { COFFER_PASSWORD: 'right' } }), 'no repository given: use --repo or COFFER_REPOSITORY');
  });

  it('usage mistakes', () => {
    expectFailure(coffer(['repo', 'snapshots', '--nope'], { env }), "unknown option '--nope'");
    expectFailure(coffer(['repo', 'restore', 'latest'], { env }), 'no target given: use --target DIR (an empty or new directory), or --postgres, --mysql or --redis-dir for a database snapshot');
    expectFailure(coffer(['repo', 'backup'], { env }), 'nothing to back up: give one or more paths, --stdin, or a database (--postgres, --mysql, --redis)');
    expectFailure(coffer(['repo', 'forget', '--dry-run'], { env }), 'no keep rule given: add at least one of --keep-last, --keep-hourly, --keep-daily, --keep-weekly, --keep-monthly, --keep-yearly, --keep-within');
    expect(coffer(['repo', 'forget', '--keep-within', '3x'], { env }).stderr).toMatch(/^coffer: option '--keep-within <duration>' argument '3x' is invalid\. invalid retention duration "3x": unknown unit "x"; .*\n$/);
    expectFailure(coffer(['repo', 'backup', '--exclude', '[', join(dir, 'src')], { env }), 'bad filter pattern: exclude pattern "[": Missing closing: "]" - use "\\\\]" to match literal characters');
  });

  it('--help documents the exit codes', () => {
    const help = expectSuccess(coffer(['--help']));
    expect(help.stdout).toMatch(/Exit codes:\n\s+0\s+success\n\s+1\s+failure.*\n\s+3\s+backup completed with warnings/);
  });
});

describe('coffer repo backup: an unreadable file', () => {
  it('is named on stderr, the snapshot is saved without it, and the exit code is 3', () => {
    // As root every file is readable, so the CLI runs as nobody against files root keeps to itself.
    const asRoot = process.getuid?.() === 0;
    const user = asRoot ? { uid: 65534, gid: 65534 } : {};
    const dir = join(base, 'unreadable');
    mkdirSync(dir, { mode: 0o755 });
    chmodSync(dir, 0o755);
    const repo = join(dir, 'repo');
    mkdirSync(repo, { mode: 0o755 });
    if (asRoot) chownSync(repo, 65534, 65534);
    const src = join(dir, 'src');
    mkdirSync(src, { mode: 0o755 });
    chmodSync(src, 0o755);
    writeFileSync(join(src, 'readable'), 'anyone may read this\n', { mode: 0o644 });
    chmodSync(join(src, 'readable'), 0o644);
    writeFileSync(join(src, 'locked'), 'not for you\n', { mode: 0o000 });
    chmodSync(join(src, 'locked'), asRoot ? 0o600 : 0o000);
    const env = { COFFER_REPOSITORY: repo, COFFER_PASSWORD_FILE: passwordFile(dir, 'password', 'pw'), HOME: dir };

    expectSuccess(coffer(['repo', 'init'], { env, ...user }));
    const backup = coffer(['repo', 'backup', src], { env, ...user });
    expect(backup.stderr).toMatch(new RegExp(`^warning: ${join(src, 'locked')}: .*permission denied.*\n$`, 'i'));
    expect(backup.stdout).toMatch(/^Warnings: +1 warning: what could not be read is not in the snapshot/m);
    expect(backup.stdout).toMatch(/^snapshot [0-9a-f]{8} saved$/m);
    expect(backup.status).toBe(3);

    const ls = expectSuccess(coffer(['repo', 'ls', 'latest', src], { env, ...user }));
    expect(ls.stdout).toBe(`${src}\n${join(src, 'readable')}\n`);
    const [snapshot] = json(coffer(['repo', 'snapshots', '--json'], { env, ...user }));
    expect(snapshot.warnings).toHaveLength(1);
  });
});
