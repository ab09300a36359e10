import { SourceManifest } from '../database/database-source';
import { optionFileValue } from './mysql-login';
import { pickMysqlItem } from './mysql-restore';
import { explainClientFailure, quoteIdentifier, quoteString } from './mysql-session';
import { checkDumpToolVersion, describeServerVersion } from './mysql-tools';

const tool = (version: string) => ({ name: 'mariadb-dump', version, path: '/usr/bin/mariadb-dump' });

describe('checkDumpToolVersion', () => {
  test('accepts a tool of the same or a newer major.minor', () => {
    expect(() => checkDumpToolVersion(tool('10.11.6'), '10.11.19-MariaDB-0+deb12u1')).not.toThrow();
    expect(() => checkDumpToolVersion(tool('11.4.2'), '10.11.19-MariaDB')).not.toThrow();
    expect(() => checkDumpToolVersion(tool('10.11.19'), '8.0.36')).not.toThrow();
  });

  test('refuses an older one, saying which client to install', () => {
    expect(() => checkDumpToolVersion(tool('10.5.23'), '10.11.19-MariaDB-0+deb12u1')).toThrow(
      'mariadb-dump 10.5 is older than the server (MariaDB 10.11.19): install a client of 10.11 or newer',
    );
    expect(() => checkDumpToolVersion({ ...tool('5.7.44'), name: 'mysqldump' }, '8.0.36')).toThrow('mysqldump 5.7 is older than the server (MySQL 8.0.36): install a client of 8.0 or newer');
  });

  test('lets through a version it cannot read', () => {
    expect(() => checkDumpToolVersion(tool('unknown'), '10.11.19-MariaDB')).not.toThrow();
  });

  test('names the server product', () => {
    expect(describeServerVersion('10.11.19-MariaDB-0+deb12u1')).toBe('MariaDB 10.11.19');
    expect(describeServerVersion('8.0.36-0ubuntu0.22.04.1')).toBe('MySQL 8.0.36');
  });
});

describe('optionFileValue', () => {
  test('quotes and escapes what the option-file reader would otherwise change', () => {
    expect(optionFileValue('plain')).toBe('"plain"');
    expect(optionFileValue('a#b "c" \\d\ne\tf')).toBe('"a#b \\"c\\" \\\\d\\ne\\tf"');
  });
});

describe('explainClientFailure', () => {
  const connection = { host: '127.0.0.1', port: 3306, user: 'shop' };
  test('access denied names host, port, user and quotes the server', () => {
    expect(explainClientFailure(connection, "ERROR 1045 (28000): Access denied for user 'shop'@'localhost' (using password: YES)\n").message).toBe(
      `cannot log in to MariaDB/MySQL at 127.0.0.1:3306 as "shop": the server says "Access denied for user 'shop'@'localhost' (using password: YES)"; check the user and the password`,
    );
  });
  test('a server that cannot be reached', () => {
    expect(explainClientFailure({ host: '::1', port: 3307 }, "ERROR 2002 (HY000): Can't connect to server on '::1' (115)\n").message).toBe(
      `cannot connect to MariaDB/MySQL at [::1]:3307 as the default user (from ~/.my.cnf or your login name): "Can't connect to server on '::1' (115)"; check that the server is running and the host and port are right`,
    );
  });
  test('anything else quotes the server', () => {
    expect(explainClientFailure(connection, 'ERROR 1064 (42000) at line 1: You have an error in your SQL syntax\n').message).toBe(
      'MariaDB/MySQL at 127.0.0.1:3306 refused a query: "You have an error in your SQL syntax"',
    );
  });
});

describe('SQL quoting', () => {
  test('identifiers double their backticks; strings become hex literals', () => {
    expect(quoteIdentifier('we`ird')).toBe('`we``ird`');
    expect(quoteString("it's")).toBe("_utf8mb4 X'69742773'");
  });
});

describe('pickMysqlItem', () => {
  const manifest = (...databases: string[]): SourceManifest => ({
    version: 1,
    kind: 'mysql',
    server: 'mysql://root@h:3306',
    serverVersion: '10.11.19',
    tool: { name: 'mariadb-dump', version: '10.11.19' },
    items: databases.map((database) => ({ file: `${database}.sql`, content: 'database' as const, database, format: 'sql' as const })),
  });
  test('the only dump, or the one named', () => {
    expect(pickMysqlItem(manifest('shop'), undefined).file).toBe('shop.sql');
    expect(pickMysqlItem(manifest('shop', 'crm'), 'crm').file).toBe('crm.sql');
  });
  test('refuses to guess', () => {
    expect(() => pickMysqlItem(manifest('shop', 'crm'), undefined)).toThrow('this snapshot holds several databases ("shop", "crm"): name the one to restore (--database NAME)');
    expect(() => pickMysqlItem(manifest('shop'), 'crm')).toThrow('this snapshot holds no database "crm"; it holds "shop"');
  });
});
