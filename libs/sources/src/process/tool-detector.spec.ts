import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { detectTools, findOnPath, parseToolVersion } from './tool-detector';

describe('parseToolVersion', () => {
  test.each([
    ['pg_dump (PostgreSQL) 15.8 (Debian 15.8-0+deb12u1)\n', '15.8'],
    ['mariadb-dump  Ver 10.19 Distrib 10.11.6-MariaDB, for debian-linux-gnu (x86_64)\n', '10.11.6'],
    ['mysqldump  Ver 8.0.36 for Linux on x86_64 (MySQL Community Server - GPL)\n', '8.0.36'],
    ['redis-cli 7.0.15\n', '7.0.15'],
    ['\n\nsomething 1.2\n', '1.2'],
    ['no version here', 'no version here'],
    ['', ''],
  ])('%j → %j', (output, version) => {
    expect(parseToolVersion(output)).toBe(version);
  });
});

describe('detectTools', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'coffer-agent-tools-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function tool(name: string, script: string): void {
    writeFileSync(join(dir, name), `#!/bin/sh\n${script}\n`);
    chmodSync(join(dir, name), 0o755);
  }

  test('finds tools on PATH and asks each for its version; missing ones are reported empty', async () => {
    tool('pg_dump', 'echo "pg_dump (PostgreSQL) 16.2"');
    tool('redis-cli', 'echo "redis-cli 7.2.4" >&2');
    writeFileSync(join(dir, 'mysqldump'), 'not executable');
    const found = await detectTools(['pg_dump', 'redis-cli', 'mysqldump', 'mariadb-dump'], `relative/dir:${dir}`);
    expect(found).toEqual([
      { name: 'pg_dump', version: '16.2', path: join(dir, 'pg_dump') },
      { name: 'redis-cli', version: '7.2.4', path: join(dir, 'redis-cli') },
      { name: 'mysqldump', version: '', path: '' },
      { name: 'mariadb-dump', version: '', path: '' },
    ]);
  });

  test('a tool that hangs is given up on after the timeout, without failing detection', async () => {
    tool('pg_dump', 'exec sleep 30');
    const started = Date.now();
    const [found] = await detectTools(['pg_dump'], dir);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(found).toEqual({ name: 'pg_dump', version: '', path: join(dir, 'pg_dump') });
  });

  test('findOnPath takes the first match', async () => {
    const other = mkdtempSync(join(tmpdir(), 'coffer-agent-tools-'));
    try {
      tool('x', 'true');
      writeFileSync(join(other, 'x'), '#!/bin/sh\n');
      chmodSync(join(other, 'x'), 0o755);
      expect(await findOnPath('x', `${dir}:${other}`)).toBe(join(dir, 'x'));
      expect(await findOnPath('y', `${dir}:${other}`)).toBeUndefined();
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });
});
