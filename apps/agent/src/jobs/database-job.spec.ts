import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { databasePassword, describeDatabaseSource, describeDatabaseTarget, redactUrl, toDatabaseTarget } from './database-job';
import { describeSource } from './backup-job';

describe('database job helpers', () => {
  const dir = mkdtempSync(join(tmpdir(), 'coffer-dbjob-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('takes the job secret first, else the password file without its trailing newline', () => {
    writeFileSync(join(dir, 'pw'), 'from-file\n');
    expect(databasePassword({ password: 'from-secret', passwordFile: join(dir, 'pw') })).toBe('from-secret');
    expect(databasePassword({ password: '', passwordFile: join(dir, 'pw') })).toBe('from-file');
    expect(databasePassword({ password: '', passwordFile: '' })).toBeUndefined();
  });

  it('says why a password file cannot be used, without its content', () => {
    expect(() => databasePassword({ password: '', passwordFile: join(dir, 'missing') })).toThrow(`cannot read the password file ${join(dir, 'missing')} (from passwordFile): no such file`);
    expect(() => databasePassword({ password: '', passwordFile: dir })).toThrow('it is a directory');
    writeFileSync(join(dir, 'empty'), '');
    expect(() => databasePassword({ password: '', passwordFile: join(dir, 'empty') })).toThrow('is empty');
  });

  it('never names a password in log descriptions', () => {
    expect(redactUrl('postgres://root:hunter2@h:5432/app')).not.toContain('hunter2');
    expect(redactUrl('postgres://root@h:5432/app')).toBe('postgres://root@h:5432/app');
    expect(describeSource({ kind: 'postgres', url: 'postgres://root@h:5432/app', databases: [], schemas: [], globals: false, globalsOnly: false, passwordFile: '', password: 'hunter2' })).toBe(
      'PostgreSQL postgres://root@h:5432/app',
    );
    expect(describeDatabaseSource({ kind: 'redis', url: 'redis://:hunter2@h:6379', passwordFile: '', password: '' })).not.toContain('hunter2');
    expect(describeDatabaseTarget({ kind: 'mysql', url: 'mysql://root@h/shop', password: 'hunter2', clean: false, sourceDatabase: '' })).toBe('MariaDB/MySQL mysql://root@h/shop');
  });

  it('maps a job target to the engines’ target, leaving out what was not given', () => {
    expect(toDatabaseTarget({ kind: 'postgres', url: 'postgres://h/x', password: '', clean: true, schemas: [], jobs: 0, sourceDatabase: '', globals: false, noOwner: false })).toEqual({
      kind: 'postgres',
      url: 'postgres://h/x',
      clean: true,
    });
    expect(toDatabaseTarget({ kind: 'mysql', url: 'mysql://h/x', password: 'p', clean: false, sourceDatabase: 'shop' })).toEqual({ kind: 'mysql', url: 'mysql://h/x', clean: false, password: 'p', sourceDatabase: 'shop' });
  });
});
