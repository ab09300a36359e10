import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic-file';

let dir: string;
beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'coffer-agent-atomic-'))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('writeFileAtomic', () => {
  test('creates the file with the mode asked for and leaves no temporary file', () => {
    writeFileAtomic(join(dir, 'a.json'), '{"x":1}', 0o600);
    expect(readFileSync(join(dir, 'a.json'), 'utf8')).toBe('{"x":1}');
    expect(statSync(join(dir, 'a.json')).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual(['a.json']);
  });

  test('replaces an existing file whole', () => {
    writeFileSync(join(dir, 'a.json'), 'old content that is longer than the new one');
    writeFileAtomic(join(dir, 'a.json'), 'new');
    expect(readFileSync(join(dir, 'a.json'), 'utf8')).toBe('new');
    expect(readdirSync(dir)).toEqual(['a.json']);
  });

  test('a failed write leaves the old file as it was and no temporary file', () => {
    writeFileSync(join(dir, 'a.json'), 'old');
    // Renaming a file over a directory fails after the temp file was written and synced.
    expect(() => writeFileAtomic(join(dir, 'missing-dir', 'a.json'), 'new')).toThrow();
    expect(readFileSync(join(dir, 'a.json'), 'utf8')).toBe('old');
    expect(readdirSync(dir)).toEqual(['a.json']);
  });

  test('a rename that fails removes its temporary file', () => {
    const target = join(dir, 'target');
    mkdirSync(join(target, 'not-empty'), { recursive: true });
    expect(() => writeFileAtomic(target, 'new')).toThrow();
    expect(readdirSync(dir)).toEqual(['target']);
  });
});
