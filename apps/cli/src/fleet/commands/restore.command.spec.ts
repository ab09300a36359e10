import { toRestoreRequest } from './restore.command';

describe('toRestoreRequest', () => {
  it('restores into a directory as before', () => {
    expect(toRestoreRequest('3f9a', { agent: 'web-2', target: '/srv/restore', include: ['/etc/**'] })).toEqual({ snapshot: '3f9a', agent: 'web-2', target: '/srv/restore', include: ['/etc/**'] });
  });

  it('restores into PostgreSQL with its options, hooks and a password secret', () => {
    expect(
      toRestoreRequest('3f9a', {
        agent: 'db-2',
        postgres: 'postgres://root@127.0.0.1:5432/copy',
        clean: true,
        schema: ['public', 'billing'],
        jobs: 4,
        database: 'app',
        owner: false,
        dbPasswordSecret: 'pg-admin',
        before: ['systemctl stop app'],
        after: ['systemctl start app'],
      }),
    ).toEqual({
      snapshot: '3f9a',
      agent: 'db-2',
      hooks: { before: [{ run: 'systemctl stop app' }], after: [{ run: 'systemctl start app' }] },
      database: { postgres: { url: 'postgres://root@127.0.0.1:5432/copy', clean: true, schemas: ['public', 'billing'], jobs: 4, sourceDatabase: 'app', noOwner: true, passwordSecret: 'pg-admin' } },
    });
  });

  it('restores into MariaDB/MySQL and a Redis data directory', () => {
    expect(toRestoreRequest('3f9a', { agent: 'a', mysql: 'mysql://root@h/shop_copy', database: 'shop' }).database).toEqual({ mysql: { url: 'mysql://root@h/shop_copy', sourceDatabase: 'shop' } });
    expect(toRestoreRequest('3f9a', { agent: 'a', redisDir: '/var/lib/redis', clean: true }).database).toEqual({ redis: { dir: '/var/lib/redis', clean: true } });
  });

  it.each([
    [{ agent: 'a' }, 'say where to restore: --target DIR, --postgres URL, --mysql URL or --redis-dir DIR'],
    [{ agent: 'a', target: '/t', postgres: 'postgres://h/x' }, 'give only one of --target, --postgres: a restore goes to one place'],
    [{ agent: 'a', target: 'relative' }, '--target must be an absolute directory on the host of agent "a", such as /srv/restore'],
    [{ agent: 'a', target: '/t', clean: true }, '--clean applies to --postgres / --mysql / --redis-dir restores only'],
    [{ agent: 'a', mysql: 'mysql://h/x', schema: ['s'] }, '--schema applies to --postgres restores only'],
    [{ agent: 'a', redisDir: '/r', dbPasswordSecret: 's' }, '--db-password-secret applies to --postgres / --mysql restores only'],
    [{ agent: 'a', postgres: 'postgres://h/x', include: ['x'] }, '--include applies to --target restores only'],
  ])('refuses %j', (options, message) => {
    expect(() => toRestoreRequest('3f9a', options)).toThrow(message);
  });
});
