import { spawnSync } from 'node:child_process';
import fs from 'node:fs'; // the module object itself, so spies reach the walker
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ts from 'typescript';
import type { FsEntry, WalkEvent } from '@coffer/contracts';
import { compileFilters, estimateWalk, walkFiles, type WalkOptions } from './walk-files';

const NOBODY = 65534;

let tmp: string;

beforeEach(() => {
  tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-walk-')));
});

afterEach(() => {
  jest.restoreAllMocks();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** Creates files (string content), directories (trailing '/') and symlinks ({ link }) below `base`. */
function makeTree(base: string, spec: Record<string, string | { link: string }>): void {
  for (const [rel, what] of Object.entries(spec)) {
    const abs = path.join(base, rel);
    if (typeof what === 'object') {
      fs.mkdirSync(path.dirname(abs), { recursive: true });
      fs.symlinkSync(what.link, abs);
    } else if (rel.endsWith('/')) {
      fs.mkdirSync(abs, { recursive: true });
    } else {
      fs.mkdirSync(path.dirname(abs), { recursive: true });
      fs.writeFileSync(abs, what);
    }
  }
}

async function collect(events: AsyncIterable<WalkEvent>): Promise<WalkEvent[]> {
  const out: WalkEvent[] = [];
  for await (const event of events) out.push(event);
  return out;
}

/** One line per event, paths relative to `base`, so sequences read like a listing. */
function lines(events: WalkEvent[], base = tmp): string[] {
  const rel = (p: string) => (p === base ? '.' : path.relative(base, p));
  return events.map((e) => {
    switch (e.kind) {
      case 'root':
        return `root ${rel(e.absPath)}`;
      case 'dir-enter':
        return `enter ${rel(e.entry.absPath)}`;
      case 'dir-leave':
        return `leave ${rel(e.entry.absPath)}`;
      case 'entry':
        return `${e.entry.type} ${rel(e.entry.absPath)}${e.entry.linkTarget !== undefined ? ` -> ${e.entry.linkTarget}` : ''}`;
      case 'warning':
        return `warning ${e.skipped} ${rel(e.path)}: ${e.message}`;
    }
  });
}

async function walkDescribed(roots: string[], options?: WalkOptions): Promise<string[]> {
  return lines(await collect(walkFiles(roots, options)));
}

function entryOf(events: WalkEvent[], absPath: string): FsEntry {
  for (const e of events) {
    if ((e.kind === 'entry' || e.kind === 'dir-enter') && e.entry.absPath === absPath) return e.entry;
  }
  throw new Error(`no entry for ${absPath}`);
}

describe('walkFiles: event sequence', () => {
  it('walks a small tree depth first, pre-order, names in UTF-8 byte order', async () => {
    makeTree(tmp, {
      'a file.txt': 'hello',
      'empty/': '',
      'nested/deeper/x.bin': 'xx',
      'nested/y': '',
      link: { link: 'a file.txt' },
      dangling: { link: 'does-not-exist' },
      Z: '',
      z: '',
      'é': '',
      '\uFF21': '', // FULLWIDTH A: UTF-8 EF BC A1, after é, before astral characters
      '😀 smile': '', // U+1F600: UTF-8 F0 9F 98 80, sorts last although its UTF-16 (D83D…) is below FF21
    });

    expect(await walkDescribed([tmp])).toEqual([
      'root .',
      'enter .',
      'file Z',
      'file a file.txt',
      'symlink dangling -> does-not-exist',
      'enter empty',
      'leave empty',
      'symlink link -> a file.txt',
      'enter nested',
      'enter nested/deeper',
      'file nested/deeper/x.bin',
      'leave nested/deeper',
      'file nested/y',
      'leave nested',
      'file z',
      'file é',
      'file \uFF21',
      'file 😀 smile',
      'leave .',
    ]);
  });

  it('records what lstat says: mode bits, nanosecond mtime, sizes only for files, link targets', async () => {
    makeTree(tmp, { 'f.txt': 'hello', 'd/': '', l: { link: '../somewhere' } });
    fs.chmodSync(path.join(tmp, 'f.txt'), 0o4640);
    fs.chmodSync(path.join(tmp, 'd'), 0o1750);
    const events = await collect(walkFiles([tmp]));

    const file = entryOf(events, path.join(tmp, 'f.txt'));
    const st = fs.lstatSync(path.join(tmp, 'f.txt'), { bigint: true });
    expect(file).toEqual({
      absPath: path.join(tmp, 'f.txt'),
      name: 'f.txt',
      type: 'file',
      mode: 0o4640,
      uid: Number(st.uid),
      gid: Number(st.gid),
      mtimeNs: st.mtimeNs,
      size: 5,
      ino: st.ino,
      dev: st.dev,
      nlink: 1,
    });
    expect(entryOf(events, path.join(tmp, 'd'))).toMatchObject({ type: 'dir', mode: 0o1750, size: 0 });
    expect(entryOf(events, path.join(tmp, 'l'))).toMatchObject({ type: 'symlink', size: 0, linkTarget: '../somewhere' });
    expect(entryOf(events, tmp)).toMatchObject({ type: 'dir', name: path.basename(tmp) });
    const leave = events[events.length - 1];
    expect(leave).toEqual({ kind: 'dir-leave', entry: entryOf(events, tmp) });
  });

  it('yields root then a single entry for a file or symlink root', async () => {
    makeTree(tmp, { f: 'x', l: { link: 'f' } });
    expect(await walkDescribed([path.join(tmp, 'f')])).toEqual(['root f', 'file f']);
    expect(await walkDescribed([path.join(tmp, 'l')])).toEqual(['root l', 'symlink l -> f']);
  });

  it('lets timers run during a long walk (the consumer is not starved of the event loop)', async () => {
    for (let i = 0; i < 3000; i++) fs.writeFileSync(path.join(tmp, `f${i}`), '');
    let immediateRan = false;
    setImmediate(() => {
      immediateRan = true;
    });
    let ranBeforeLastEvent = false;
    for await (const event of walkFiles([tmp])) {
      if (event.kind === 'dir-leave') ranBeforeLastEvent = immediateRan;
    }
    expect(ranBeforeLastEvent).toBe(true);
  });
});

describe('walkFiles: roots', () => {
  it('resolves relative roots and drops duplicates and nested roots', async () => {
    makeTree(tmp, { 'sub/f': '', 'sub/g/h': '', top: '' });
    const relative = path.relative(process.cwd(), tmp);
    expect(await walkDescribed([path.join(tmp, 'sub'), `${tmp}/`, relative, `${tmp}/sub/../sub/g`, path.join(tmp, 'sub/f')])).toEqual([
      'root .',
      'enter .',
      'enter sub',
      'file sub/f',
      'enter sub/g',
      'file sub/g/h',
      'leave sub/g',
      'leave sub',
      'file top',
      'leave .',
    ]);
  });

  it('walks separate roots in byte order whatever order they were given in', async () => {
    makeTree(tmp, { 'b/x': '', 'a/y': '' });
    expect(await walkDescribed([path.join(tmp, 'b'), path.join(tmp, 'a')])).toEqual([
      'root a',
      'enter a',
      'file a/y',
      'leave a',
      'root b',
      'enter b',
      'file b/x',
      'leave b',
    ]);
  });

  it('keeps a root reached through a symlink as a root of its own', async () => {
    makeTree(tmp, { 'outer/link': { link: '../elsewhere' }, 'elsewhere/f': '' });
    expect(await walkDescribed([path.join(tmp, 'outer'), path.join(tmp, 'outer/link/f')])).toEqual([
      'root outer',
      'enter outer',
      'symlink outer/link -> ../elsewhere',
      'leave outer',
      'root outer/link/f',
      'file outer/link/f',
    ]);
  });

  it('keeps an explicitly given nested root that a filter would have skipped, with the way to it', async () => {
    makeTree(tmp, { 'node_modules/keep/k.log': '', 'node_modules/keep/sub/s': '', 'node_modules/other/o': '', 'a.log': '', b: '' });
    expect(await walkDescribed([tmp, path.join(tmp, 'node_modules/keep')], { exclude: ['node_modules'] })).toEqual([
      'root .',
      'enter .',
      'file a.log',
      'file b',
      'enter node_modules',
      'enter node_modules/keep',
      'file node_modules/keep/k.log',
      'enter node_modules/keep/sub',
      'file node_modules/keep/sub/s',
      'leave node_modules/keep/sub',
      'leave node_modules/keep',
      'leave node_modules',
      'leave .',
    ]);
  });

  it('throws before yielding anything when a root does not exist, naming every missing one', () => {
    makeTree(tmp, { f: '' });
    const missing = path.join(tmp, 'nope');
    expect(() => walkFiles([tmp, missing])).toThrow(new Error(`path does not exist: ${missing}`));
    expect(() => walkFiles([missing, path.join(tmp, 'f/under-a-file')])).toThrow(
      new Error(`path does not exist: ${missing}\npath does not exist: ${path.join(tmp, 'f/under-a-file')}`),
    );
  });
});

describe('walkFiles: filters', () => {
  beforeEach(() => {
    makeTree(tmp, {
      'app/main.ts': '',
      'app/debug.log': '',
      'app/.hidden.log': '',
      'app/cache/c1': '',
      'app/node_modules/pkg/index.js': '',
      'app/tmp/t.tmp': '',
      'app/build/out.js': '',
      'lib/build': 'a file named build',
      'lib/x.txt': '',
      'docs/readme.txt': '',
      'docs/img/logo.png': '',
    });
  });

  it('excludes by base name at any depth, dotfiles included, and whole subtrees', async () => {
    expect(await walkDescribed([tmp], { exclude: ['*.log', 'node_modules', `${tmp}/app/cache`, 'img'] })).toEqual([
      'root .',
      'enter .',
      'enter app',
      'enter app/build',
      'file app/build/out.js',
      'leave app/build',
      'file app/main.ts',
      'enter app/tmp',
      'file app/tmp/t.tmp',
      'leave app/tmp',
      'leave app',
      'enter docs',
      'file docs/readme.txt',
      'leave docs',
      'enter lib',
      'file lib/build',
      'file lib/x.txt',
      'leave lib',
      'leave .',
    ]);
  });

  it("limits a pattern ending in '/' to directories and matches relative slash patterns anywhere", async () => {
    const events = await walkDescribed([tmp], { exclude: ['build/', 'tmp/*.tmp'] });
    expect(events).not.toContain('enter app/build');
    expect(events).toContain('file lib/build');
    expect(events).toContain('enter app/tmp');
    expect(events).not.toContain('file app/tmp/t.tmp');
  });

  it('with includes records only matching files but every directory, and exclude wins', async () => {
    expect(await walkDescribed([tmp], { include: ['*.txt', '*.js', `${tmp}/docs/img/**`], exclude: ['node_modules', 'x.txt'] })).toEqual([
      'root .',
      'enter .',
      'enter app',
      'enter app/build',
      'file app/build/out.js',
      'leave app/build',
      'enter app/cache',
      'leave app/cache',
      'enter app/tmp',
      'leave app/tmp',
      'leave app',
      'enter docs',
      'enter docs/img',
      'file docs/img/logo.png',
      'leave docs/img',
      'file docs/readme.txt',
      'leave docs',
      'enter lib',
      'leave lib',
      'leave .',
    ]);
  });

  it('compileFilters gives the per-entry verdict the walk uses', () => {
    const verdict = compileFilters({ include: ['*.txt'], exclude: ['/srv/app/cache', 'node_modules', 'out/'] });
    expect(verdict('/srv/app/cache', true)).toBe('skip');
    expect(verdict('/srv/app/cache', false)).toBe('skip');
    expect(verdict('/x/node_modules', true)).toBe('skip');
    expect(verdict('/x/out', true)).toBe('skip');
    expect(verdict('/x/out', false)).toBe('skip'); // not a .txt
    expect(verdict('/x/out.txt', false)).toBe('keep');
    expect(verdict('/x/dir', true)).toBe('keep');
    expect(verdict('/x/.notes.txt', false)).toBe('keep');
    expect(compileFilters({})('/anything', false)).toBe('keep');
  });

  it('rejects bad patterns up front, listing each one', () => {
    const bad: WalkOptions = { exclude: ['*.{jpg,png', '', 'ok/*'], include: ['[z-a]', 'dirs-only/'] };
    let message = '';
    try {
      compileFilters(bad);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message.split('\n')).toEqual([
      'bad filter patterns:',
      expect.stringContaining('exclude pattern "*.{jpg,png": Missing closing: "}"'),
      '  exclude pattern "": must be a non-empty string',
      expect.stringContaining('include pattern "[z-a]": Invalid regular expression'),
      `  include pattern "dirs-only/": a trailing '/' matches only directories, which are always kept`,
    ]);
    expect(() => walkFiles([tmp], bad)).toThrow('bad filter patterns');
  });
});

describe('walkFiles: special files', () => {
  it('skips a unix socket with a warning', async () => {
    makeTree(tmp, { a: '', z: '' });
    const sock = path.join(tmp, 'sock');
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(sock, resolve));
    try {
      expect(await walkDescribed([tmp])).toEqual(['root .', 'enter .', 'file a', 'warning special sock: skipped socket', 'file z', 'leave .']);
      // Not asked for by an include: skipped without a word.
      expect(await walkDescribed([tmp], { include: ['a'] })).toEqual(['root .', 'enter .', 'file a', 'leave .']);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('skips a FIFO with a warning', async () => {
    const fifo = path.join(tmp, 'pipe');
    const made = spawnSync('mkfifo', [fifo], { encoding: 'utf8' });
    expect(made.error ?? made.stderr).toBeFalsy();
    expect(await walkDescribed([tmp])).toEqual(['root .', 'enter .', 'warning special pipe: skipped FIFO', 'leave .']);
  });

  it('skips a device given as a root with a warning', async () => {
    const events = await collect(walkFiles(['/dev/null']));
    expect(events).toEqual([
      { kind: 'root', absPath: '/dev/null' },
      { kind: 'warning', path: '/dev/null', message: 'skipped character device', skipped: 'special' },
    ]);
  });
});

describe('walkFiles: oneFileSystem', () => {
  it('records a mount point empty and does not descend into it', async () => {
    makeTree(tmp, { 'mnt/inside': '', 'mnt/deeper/f': '', 'plain/p': '' });
    const mountPoint = path.join(tmp, 'mnt');
    // A real mount needs privileges tests cannot count on: present the directory on another device.
    const realLstat = fs.lstatSync;
    jest.spyOn(fs, 'lstatSync').mockImplementation(((p: fs.PathLike, opts?: fs.StatOptions) => {
      const st = realLstat(p, opts as fs.StatOptions & { bigint: true });
      if (st && p === mountPoint) return Object.assign(Object.create(Object.getPrototypeOf(st)), st, { dev: st.dev + 1n });
      return st;
    }) as typeof fs.lstatSync);

    expect(await walkDescribed([tmp], { oneFileSystem: true })).toEqual([
      'root .',
      'enter .',
      'enter mnt',
      'leave mnt',
      'enter plain',
      'file plain/p',
      'leave plain',
      'leave .',
    ]);
    // Given explicitly, the other filesystem is walked (like `restic backup --one-file-system / /home`).
    expect(await walkDescribed([tmp, path.join(tmp, 'mnt/deeper')], { oneFileSystem: true })).toEqual([
      'root .',
      'enter .',
      'enter mnt',
      'enter mnt/deeper',
      'file mnt/deeper/f',
      'leave mnt/deeper',
      'leave mnt',
      'enter plain',
      'file plain/p',
      'leave plain',
      'leave .',
    ]);
    expect(await walkDescribed([tmp])).toContain('file mnt/inside');
  });
});

describe('walkFiles: unreadable and vanished paths', () => {
  it('warns about unreadable directories and entries, still emitting the directory', async () => {
    makeTree(tmp, { 'locked/secret': '', 'listonly/f': '', 'open/o': '' });
    fs.chmodSync(tmp, 0o755);
    fs.chmodSync(path.join(tmp, 'locked'), 0o000);
    fs.chmodSync(path.join(tmp, 'listonly'), 0o644); // readable, not searchable: readdir works, lstat fails
    try {
      const events = process.getuid?.() === 0 ? walkAsNobody(tmp) : await walkDescribed([tmp]);
      expect(events).toEqual([
        'root .',
        'enter .',
        'enter listonly',
        'warning unreadable listonly/f: cannot read: permission denied (EACCES)',
        'leave listonly',
        'enter locked',
        'warning unreadable locked: cannot read directory: permission denied (EACCES)',
        'leave locked',
        'enter open',
        'file open/o',
        'leave open',
        'leave .',
      ]);
    } finally {
      fs.chmodSync(path.join(tmp, 'locked'), 0o755);
      fs.chmodSync(path.join(tmp, 'listonly'), 0o755);
    }
  });

  it('warns about an entry that vanishes between readdir and lstat', async () => {
    makeTree(tmp, { a: '', 'd/x': '' });
    const realReaddir = fs.readdirSync;
    jest.spyOn(fs, 'readdirSync').mockImplementation(((p: fs.PathLike, opts: unknown) => {
      const names = realReaddir(p, opts as { encoding: 'utf8' }) as string[];
      return p === tmp ? [...names, 'ghost'] : names;
    }) as typeof fs.readdirSync);
    expect(await walkDescribed([tmp])).toEqual([
      'root .',
      'enter .',
      'file a',
      'enter d',
      'file d/x',
      'leave d',
      'warning vanished ghost: vanished before it could be read',
      'leave .',
    ]);
  });

  it('warns about a directory that vanishes before it is listed, and leaves it out', async () => {
    makeTree(tmp, { 'd/x': '', e: '' });
    const realReaddir = fs.readdirSync;
    jest.spyOn(fs, 'readdirSync').mockImplementation(((p: fs.PathLike, opts: unknown) => {
      if (p === path.join(tmp, 'd')) throw Object.assign(new Error('ENOENT: no such file or directory'), { code: 'ENOENT' });
      return realReaddir(p, opts as { encoding: 'utf8' });
    }) as typeof fs.readdirSync);
    expect(await walkDescribed([tmp])).toEqual([
      'root .',
      'enter .',
      'warning vanished d: directory vanished before it could be read',
      'file e',
      'leave .',
    ]);
  });
});

/**
 * Root reads through any permission bits, so the walk runs in a child process as nobody: the walker
 * is transpiled into a directory nobody can read, with picomatch copied beside it.
 */
function walkAsNobody(root: string): string[] {
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-walk-run-'));
  try {
    fs.chmodSync(runDir, 0o755);
    const source = fs.readFileSync(path.join(__dirname, 'walk-files.ts'), 'utf8');
    const js = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
    }).outputText;
    fs.writeFileSync(path.join(runDir, 'walk-files.js'), js);
    fs.cpSync(path.dirname(require.resolve('picomatch/package.json')), path.join(runDir, 'node_modules/picomatch'), { recursive: true });
    fs.writeFileSync(
      path.join(runDir, 'run.js'),
      `const { walkFiles } = require('./walk-files.js');
       (async () => {
         const events = [];
         for await (const e of walkFiles([process.argv[2]])) events.push(e);
         process.stdout.write(JSON.stringify(events, (k, v) => (typeof v === 'bigint' ? v.toString() : v)));
       })().catch((err) => { console.error(err); process.exit(1); });`,
    );
    const child = spawnSync(process.execPath, [path.join(runDir, 'run.js'), root], {
      uid: NOBODY,
      gid: NOBODY,
      cwd: runDir,
      encoding: 'utf8',
    });
    if (child.error) throw child.error;
    if (child.status !== 0) throw new Error(`walk as nobody failed (${child.status}): ${child.stderr}`);
    return lines(JSON.parse(child.stdout) as WalkEvent[], root);
  } finally {
    fs.rmSync(runDir, { recursive: true, force: true });
  }
}

describe('estimateWalk', () => {
  test('counts the files and bytes under the roots, then says it is done', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-estimate-'));
    try {
      fs.mkdirSync(path.join(root, 'sub'));
      fs.writeFileSync(path.join(root, 'a'), 'abc');
      fs.writeFileSync(path.join(root, 'sub', 'b'), 'de');
      fs.writeFileSync(path.join(root, 'skip.tmp'), 'ignored');
      const estimate = estimateWalk([root], { exclude: ['*.tmp'] });
      while (!estimate.done) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(estimate).toEqual({ files: 2, bytes: 5, done: true });
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
