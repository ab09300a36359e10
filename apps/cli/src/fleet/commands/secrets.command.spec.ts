import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSecretFile } from './secrets.command';

describe('readSecretFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'coffer-secret-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('drops one final line break and keeps the rest', async () => {
    writeFileSync(join(dir, 'a'), ' pass word \r\n');
    expect(await readSecretFile(join(dir, 'a'))).toBe(' pass word ');
    writeFileSync(join(dir, 'b'), 'two\n\n');
    expect(await readSecretFile(join(dir, 'b'))).toBe('two\n');
  });

  it('refuses a missing or empty file with what is wrong', async () => {
    await expect(readSecretFile(join(dir, 'nope'))).rejects.toThrow(`cannot read the password file ${join(dir, 'nope')} (from --from-file): no such file`);
    writeFileSync(join(dir, 'empty'), '\n');
    await expect(readSecretFile(join(dir, 'empty'))).rejects.toThrow('is empty: an empty password would not protect anything');
  });
});
