import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { readPasswordFile } from './password-file';

let dir: string;
beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'coffer-password-'))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

describe('readPasswordFile', () => {
  it('strips exactly one trailing newline', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }).filter((s) => !s.endsWith('\n') && !s.endsWith('\r')), fc.constantFrom('', '\n', '\r\n'), (password, ending) => {
        expect(readPasswordFile(file('p', password + ending), '--password-file')).toBe(password);
      }),
    );
    expect(readPasswordFile(file('two', 'pw\n\n'), '--password-file')).toBe('pw\n');
    expect(readPasswordFile(file('spaces', ' pw \n'), '--password-file')).toBe(' pw ');
  });

  it('refuses an empty password and names a file it cannot read', () => {
    const empty = file('empty', '\n');
    expect(() => readPasswordFile(empty, 'COFFER_PASSWORD_FILE')).toThrow(`the password from the password file ${empty} is empty`);
    expect(() => readPasswordFile(join(dir, 'missing'), 'COFFER_PASSWORD_FILE')).toThrow(`cannot read the password file ${join(dir, 'missing')} (from COFFER_PASSWORD_FILE): no such file`);
    expect(() => readPasswordFile(dir, '--password-file')).toThrow('it is a directory');
  });
});
