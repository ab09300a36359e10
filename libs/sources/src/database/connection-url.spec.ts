import { describeConnection, parseDatabaseUrl } from './connection-url';

describe('parseDatabaseUrl', () => {
  test.each([
    ['postgres', 'postgres://backup@db1:6543/shop', { host: 'db1', port: 6543, user: 'backup', database: 'shop' }],
    ['postgres', 'postgresql://db1', { host: 'db1', port: 5432 }],
    ['postgres', 'postgres://us%40er@[::1]/my%2Fdb', { host: '::1', port: 5432, user: 'us@er', database: 'my/db' }],
    ['mysql', 'mysql://root@127.0.0.1/shop', { host: '127.0.0.1', port: 3306, user: 'root', database: 'shop' }],
    ['mysql', 'mariadb://root@db:3307/shop', { host: 'db', port: 3307, user: 'root', database: 'shop' }],
    ['redis', 'redis://cache:6380', { host: 'cache', port: 6380 }],
  ] as const)('%s %s', (kind, url, expected) => {
    expect(parseDatabaseUrl(kind, url)).toEqual(expected);
  });

  test.each([
    ['postgres', 'postgres://u:secret@db/shop', 'the postgres URL must not carry a password (ps and shell history would show it): give it in a file (--db-password-file FILE) or in the client\'s own files (PGPASSFILE, ~/.pgpass)'],
    ['postgres', 'mysql://u@db/shop', '"mysql://u@db/shop" is not a postgres URL: expected postgres://USER@HOST:PORT/DATABASE'],
    ['mysql', 'not a url', '"not a url" is not a mysql URL: expected mysql://USER@HOST:PORT/DATABASE'],
    ['redis', 'redis://cache:6379/2', '"redis://cache:6379/2": a Redis backup takes the whole server; leave the path out (redis://HOST:PORT)'],
  ] as const)('%s %s is refused', (kind, url, message) => {
    expect(() => parseDatabaseUrl(kind, url)).toThrow(message);
  });
});

describe('describeConnection', () => {
  test('gives the URL back without password, with or without the database', () => {
    const connection = { host: 'db1', port: 5432, user: 'backup', database: 'shop', password: 'secret' };
    expect(describeConnection('postgres', connection)).toBe('postgres://backup@db1:5432/shop');
    expect(describeConnection('postgres', { ...connection, database: undefined })).toBe('postgres://backup@db1:5432');
  });
});
