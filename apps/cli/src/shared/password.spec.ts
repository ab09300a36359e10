import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readNewPassword, readPassword } from './password';

let dir: string;
beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'coffer-password-'))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

describe('readPassword', () => {
  it('takes --password-file, then COFFER_PASSWORD_FILE, then COFFER_PASSWORD', async () => {
    const a = file('a', 'from option\n');
    const b = file('b', 'from env file\n');
    expect(await readPassword({ passwordFile: a }, false, { COFFER_PASSWORD_FILE: b, COFFER_PASSWORD: 'env' })).toBe('from option');
    expect(await readPassword({}, false, { COFFER_PASSWORD_FILE: b, COFFER_PASSWORD: 'env' })).toBe('from env file');
    expect(await readPassword({}, false, { COFFER_PASSWORD: 'env' })).toBe('env');
    await expect(readPassword({}, false, { COFFER_PASSWORD: '' })).rejects.toThrow('the password from COFFER_PASSWORD is empty');
  });

  it('without any source and no terminal, says where a password can come from', async () => {
    await expect(readPassword({}, false, {})).rejects.toThrow('no password given: use --password-file, COFFER_PASSWORD_FILE or COFFER_PASSWORD');
    await expect(readNewPassword(undefined)).rejects.toThrow('no new password given: use --new-password-file');
  });
});
