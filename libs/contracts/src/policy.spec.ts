import { parsePolicyDocument, PolicyParseResult } from './policy';

const base = { name: 'db', selector: { role: 'db' }, repository: 'main' };

function parse(extra: Record<string, unknown>): PolicyParseResult {
  return parsePolicyDocument({ ...base, ...extra });
}

function problems(extra: Record<string, unknown>): { path: string; reason: string }[] {
  const result = parse(extra);
  if (result.ok) throw new Error('expected the document to be refused');
  return result.problems;
}

describe('policy database sources', () => {
  it('accepts postgres, mysql and redis sources as written', () => {
    const result = parse({
      sources: [
        { postgres: { url: 'postgres://root@127.0.0.1:5432/app', schemas: ['public', 'billing'], globals: true, passwordFile: '/etc/coffer/pg.pass' } },
        { postgres: { url: 'postgresql://backup@db.internal', databases: ['a', 'b'], passwordSecret: 'pg-backup' } },
        { postgres: { url: 'postgres://root@127.0.0.1', globalsOnly: true } },
        { mysql: { url: 'mysql://root@127.0.0.1:3306/shop', databases: ['crm'] } },
        { mysql: { url: 'mariadb://root@127.0.0.1', databases: ['shop'], passwordSecret: 'maria' } },
        { redis: { url: 'redis://127.0.0.1:6379', passwordFile: '/etc/redis.pass' } },
      ],
    });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.policy.sources[0]).toEqual({
      postgres: { url: 'postgres://root@127.0.0.1:5432/app', schemas: ['public', 'billing'], globals: true, passwordFile: '/etc/coffer/pg.pass' },
    });
    expect(result.policy.hooks).toBeUndefined();
  });

  it('refuses a password in the URL and says where to put it', () => {
    expect(problems({ sources: [{ postgres: { url: 'postgres://root:hunter2@127.0.0.1/app' } }] })).toEqual([
      { path: 'sources.0.postgres.url', reason: expect.stringMatching(/must not carry a password.*passwordSecret.*passwordFile/) },
    ]);
    expect(problems({ sources: [{ redis: { url: 'redis://:hunter2@127.0.0.1:6379' } }] })[0].path).toBe('sources.0.redis.url');
  });

  it('refuses passwordFile together with passwordSecret', () => {
    expect(problems({ sources: [{ mysql: { url: 'mysql://root@h/shop', passwordFile: '/p', passwordSecret: 'p' } }] })).toEqual([
      { path: 'sources.0.mysql.passwordSecret', reason: 'give either passwordFile or passwordSecret, not both' },
    ]);
  });

  it('names the field of a malformed database source, not the union', () => {
    expect(problems({ sources: [{ postgres: { url: 'mysql://root@h/app' } }] })).toEqual([
      { path: 'sources.0.postgres.url', reason: expect.stringContaining('postgres://USER@HOST:PORT/DATABASE') },
    ]);
    expect(problems({ sources: [{ postgres: { url: 'postgres://root@h', passwordFile: 'relative' } }] })).toEqual([
      { path: 'sources.0.postgres.passwordFile', reason: 'must be an absolute path' },
    ]);
    expect(problems({ sources: [{ postgres: { url: 'postgres://root@h', password: 'x' } }] })).toEqual([
      { path: 'sources.0.postgres', reason: 'has unknown field(s): password' },
    ]);
    expect(problems({ sources: [{ redis: { url: 'redis://h:6379/0' } }] })[0]).toEqual({ path: 'sources.0.redis.url', reason: expect.stringContaining('whole server') });
    expect(problems({ sources: [{ mysql: { url: 'mysql://root@h' } }] })).toEqual([
      { path: 'sources.0.mysql.databases', reason: expect.stringContaining('is required when the url names no database') },
    ]);
  });

  it('refuses globalsOnly with databases or schemas', () => {
    const found = problems({ sources: [{ postgres: { url: 'postgres://root@h/app', globalsOnly: true, schemas: ['s'] } }] });
    expect(found.map((p) => p.path).sort()).toEqual(['sources.0.postgres.schemas', 'sources.0.postgres.url']);
  });

  it('lists every source kind when a source is of none', () => {
    expect(problems({ sources: [{ mongodb: { url: 'x' } }] })).toEqual([
      { path: 'sources.0', reason: expect.stringMatching(/files.*command.*postgres.*mysql.*redis/) },
    ]);
  });

  it('still reports files and command problems precisely', () => {
    expect(problems({ sources: [{ files: { paths: ['var/www'] } }] })).toEqual([{ path: 'sources.0.files.paths.0', reason: 'must be an absolute path' }]);
  });
});

describe('policy hooks', () => {
  it('fills in timeout and onFailure', () => {
    const result = parse({ sources: [{ files: { paths: ['/srv'] } }], hooks: { before: [{ run: 'echo hi' }, { run: 'x', timeout: '5m', onFailure: 'continue' }] } });
    expect(result.ok && result.policy.hooks).toEqual({
      before: [
        { run: 'echo hi', timeout: '10m', onFailure: 'fail' },
        { run: 'x', timeout: '5m', onFailure: 'continue' },
      ],
      after: [],
    });
  });

  it('refuses a bad hook with its field', () => {
    expect(problems({ sources: [{ files: { paths: ['/srv'] } }], hooks: { after: [{ run: ' ', timeout: 'soon', onFailure: 'ignore' }], during: [] } })).toEqual(
      expect.arrayContaining([
        { path: 'hooks', reason: 'has unknown field(s): during' },
        { path: 'hooks.after.0.run', reason: 'must not be empty' },
        { path: 'hooks.after.0.timeout', reason: expect.stringContaining('must be a duration') },
        { path: 'hooks.after.0.onFailure', reason: 'must be "fail" or "continue"' },
      ]),
    );
  });
});
