import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assertBuilt, coffer, CofferRun, passwordFile, removeTree, tempDir } from './test-support/coffer-process';

/*
 * `coffer repo backup --postgres` / `repo restore --postgres` / `repo verify` against the
 * machine's real PostgreSQL (TEST_POSTGRES_URL, default postgres://root@127.0.0.1:5432,
 * trust auth): a pgbench database of scale 10 plus a tenant schema, through a real
 * repository. These tests fail, never skip, without the server.
 */

const SERVER = process.env.TEST_POSTGRES_URL ?? 'postgres://root@127.0.0.1:5432';
const server = new URL(SERVER);
const suffix = `${process.pid}_${Date.now().toString(36)}`;
const SOURCE_DB = `coffer_it_pg_${suffix}`;
const created: string[] = [SOURCE_DB];

function psql(database: string, sql: string): string {
  const args = ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-h', server.hostname, '-p', server.port || '5432', '-U', decodeURIComponent(server.username || 'root'), '-d', database];
  const result = spawnSync('psql', args, { input: sql, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`psql on ${database} failed: ${result.stderr || result.error?.message}`);
  return result.stdout.trim();
}

/** Constraints (keys, foreign keys) of the test schemas, one line: what pg_restore's post-data step makes. */
const POST_DATA = `SELECT string_agg(c, ',' ORDER BY c) FROM (SELECT conrelid::regclass || '.' || conname || ':' || contype::text AS c FROM pg_constraint WHERE connamespace::regnamespace::text IN ('public', 'tenant_a')) x;`;

function dbUrl(database: string): string {
  return `${SERVER.replace(/\/$/, '')}/${database}`;
}

/** A new database name for a restore target, dropped after the tests. */
function targetName(label: string): string {
  const name = `coffer_it_pg_${label}_${suffix}`;
  created.push(name);
  return name;
}

/** Per table (schema.table): row count and md5 of its rows ordered by primary key (all columns when it has none). */
function fingerprint(database: string, schemas: string[]): Record<string, string> {
  const tables = psql(database, `SELECT schemaname || '.' || tablename FROM pg_tables WHERE schemaname IN (${schemas.map((s) => `'${s}'`).join(',')}) ORDER BY 1;`)
    .split('\n')
    .filter(Boolean);
  const result: Record<string, string> = {};
  for (const table of tables) {
    const keyColumns = psql(
      database,
      `SELECT string_agg(a.attname, ', ' ORDER BY array_position(i.indkey, a.attnum)) FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) WHERE i.indrelid = '${table}'::regclass AND i.indisprimary;`,
    );
    const order = keyColumns || 'r::text';
    result[table] = psql(database, `SELECT count(*) || ' ' || md5(coalesce(string_agg(r::text, E'\\n' ORDER BY ${order}), '')) FROM ${table} r;`);
  }
  return result;
}

let dir: string;
let repo: string[];

function backup(...args: string[]): CofferRun {
  return coffer(['repo', 'backup', ...repo, '--json', ...args]);
}

beforeAll(() => {
  assertBuilt();
  try {
    psql('postgres', 'SELECT 1;');
  } catch (err) {
    throw new Error(`these tests need PostgreSQL at ${SERVER} (${(err as Error).message.split('\n')[0]}); start it or set TEST_POSTGRES_URL`);
  }
  psql('postgres', `CREATE DATABASE ${SOURCE_DB};`);
  const init = spawnSync('pgbench', ['-i', '-s', '10', '-q', '-h', server.hostname, '-p', server.port || '5432', '-U', decodeURIComponent(server.username || 'root'), SOURCE_DB], { encoding: 'utf8' });
  if (init.status !== 0) throw new Error(`pgbench -i failed: ${init.stderr}`);
  psql(
    SOURCE_DB,
    `CREATE SCHEMA tenant_a;
     CREATE TABLE tenant_a.customers (id int PRIMARY KEY, name text NOT NULL, profile jsonb, note text);
     CREATE TABLE tenant_a.orders (id bigint PRIMARY KEY, customer_id int REFERENCES tenant_a.customers (id), amount numeric(12, 2), placed timestamptz, items text[]);
     INSERT INTO tenant_a.customers SELECT g, 'customer ' || g || ' ünïcødé', jsonb_build_object('tier', g % 3, 'tags', jsonb_build_array('a', g)), CASE WHEN g % 7 = 0 THEN NULL ELSE repeat('x', g % 50) END FROM generate_series(1, 5000) g;
     INSERT INTO tenant_a.orders SELECT g, 1 + g % 5000, (g * 1.37)::numeric(12, 2), timestamptz '2026-01-01 00:00:00+00' + g * interval '1 minute', ARRAY['sku-' || g, 'sku-' || (g + 1)] FROM generate_series(1, 20000) g;
     CREATE FUNCTION tenant_a.order_total(c int) RETURNS numeric LANGUAGE sql AS 'SELECT sum(amount) FROM tenant_a.orders WHERE customer_id = c';`,
  );
  dir = tempDir('pg');
  repo = ['--repo', join(dir, 'repo'), '--password-file', passwordFile(dir, 'password', 'correct horse')];
  const init2 = coffer(['repo', 'init', ...repo]);
  if (init2.status !== 0) throw new Error(init2.stderr);
}, 300_000);

afterAll(() => {
  for (const database of created) {
    try {
      psql('postgres', `DROP DATABASE IF EXISTS ${database} WITH (FORCE);`);
    } catch {
      // best effort
    }
  }
  if (dir) removeTree(dir);
});

/** The snapshot of the whole source database (with globals) the first test takes. */
let snapshotId: string;

describe('coffer repo backup --postgres / restore --postgres', () => {
  test('a pgbench database with a second schema round-trips into a new database, table by table', () => {
    const run = backup('--postgres', dbUrl(SOURCE_DB), '--postgres-globals', SERVER);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const snapshot = JSON.parse(run.stdout);
    snapshotId = snapshot.id;
    expect(snapshot.sourceKind).toBe('postgres');
    expect(snapshot.paths).toEqual([dbUrl(SOURCE_DB)]);

    const ls = coffer(['repo', 'ls', snapshotId, ...repo]);
    expect(ls.stdout.trim().split('\n')).toEqual(['/coffer-source.json', `/${SOURCE_DB}.pgdump`, '/globals.sql']);

    const copy = targetName('copy');
    const restore = coffer(['repo', 'restore', snapshotId, ...repo, '--postgres', dbUrl(copy), '--json']);
    expect(restore.status).toBe(0);
    expect(JSON.parse(restore.stdout)).toMatchObject({ snapshotId, target: dbUrl(copy), files: [`${SOURCE_DB}.pgdump`], created: true });

    const original = fingerprint(SOURCE_DB, ['public', 'tenant_a']);
    expect(Object.keys(original)).toEqual(['public.pgbench_accounts', 'public.pgbench_branches', 'public.pgbench_history', 'public.pgbench_tellers', 'tenant_a.customers', 'tenant_a.orders']);
    expect(original['public.pgbench_accounts']).toMatch(/^1000000 /);
    expect(fingerprint(copy, ['public', 'tenant_a'])).toEqual(original);
    expect(psql(copy, 'SELECT tenant_a.order_total(42);')).toBe(psql(SOURCE_DB, 'SELECT tenant_a.order_total(42);'));
    // Indexes and constraints come from the post-data step, which runs apart from the load.
    expect(psql(copy, POST_DATA)).toBe(psql(SOURCE_DB, POST_DATA));
    expect(psql(copy, POST_DATA)).toMatch(/tenant_a\.orders\.orders_customer_id_fkey:f/);
  });

  test('a restore into a database that holds anything is refused, and --clean restores over it', () => {
    const copy = targetName('busy');
    psql('postgres', `CREATE DATABASE ${copy};`);
    psql(copy, 'CREATE TABLE pgbench_branches (bid int PRIMARY KEY, junk text); INSERT INTO pgbench_branches VALUES (999, $$old$$);');
    const refused = coffer(['repo', 'restore', snapshotId, ...repo, '--postgres', dbUrl(copy)]);
    expect(refused.status).toBe(1);
    expect(refused.stderr.trim()).toBe(
      `coffer: target database "${copy}" on ${server.hostname}:${server.port || '5432'} is not empty (2 tables, indexes, sequences or functions): give --clean to restore over it, or pick a new name`,
    );
    expect(psql(copy, 'SELECT junk FROM pgbench_branches;')).toBe('old');

    // With --clean the whole dump goes through one pg_restore whatever --jobs says: its drops must precede its creates.
    const clean = coffer(['repo', 'restore', snapshotId, ...repo, '--postgres', dbUrl(copy), '--clean', '--jobs', '2']);
    expect(clean.stderr).not.toMatch(/error/i);
    expect(clean.status).toBe(0);
    expect(fingerprint(copy, ['public'])).toEqual(fingerprint(SOURCE_DB, ['public']));
  });

  test('a restore that cannot stage the dump for its parallel step says what is loaded and how to finish; --jobs 1 --clean then restores', () => {
    // Root only, like the other tests here that switch users: a 4 MiB tmpfs as TMPDIR, far
    // smaller than the dump.
    const small = tempDir('small-tmp');
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', small], { stdio: 'pipe' });
    try {
      const copy = targetName('nospace');
      const failed = coffer(['repo', 'restore', snapshotId, ...repo, '--postgres', dbUrl(copy), '--jobs', '2'], { env: { TMPDIR: small } });
      expect(failed.status).toBe(1);
      expect(failed.stderr.trim()).toBe(
        [
          `created database "${copy}" on ${server.hostname}:${server.port || '5432'}`,
          'coffer: the tables are loaded, but staging the dump for the parallel index and constraint step failed (ENOSPC: no space left on device, write): restore again with --jobs 1 --clean to stream without a staging file',
        ].join('\n'),
      );
      expect(readdirSync(small)).toEqual([]);
      const finished = coffer(['repo', 'restore', snapshotId, ...repo, '--postgres', dbUrl(copy), '--jobs', '1', '--clean'], { env: { TMPDIR: small } });
      expect(finished.stderr).not.toMatch(/error/i);
      expect(finished.status).toBe(0);
      expect(fingerprint(copy, ['public', 'tenant_a'])).toEqual(fingerprint(SOURCE_DB, ['public', 'tenant_a']));
      expect(psql(copy, POST_DATA)).toBe(psql(SOURCE_DB, POST_DATA));
    } finally {
      execFileSync('umount', [small]);
      removeTree(small);
    }
  });

  test('one schema: backed up alone, or picked from a whole-database snapshot', () => {
    const only = backup('--postgres', dbUrl(SOURCE_DB), '--schema', 'tenant_a');
    expect(only.status).toBe(0);
    const fromSchemaSnapshot = targetName('schema1');
    expect(coffer(['repo', 'restore', JSON.parse(only.stdout).id, ...repo, '--postgres', dbUrl(fromSchemaSnapshot), '--jobs', '1']).status).toBe(0);
    const fromWholeSnapshot = targetName('schema2');
    expect(coffer(['repo', 'restore', snapshotId, ...repo, '--postgres', dbUrl(fromWholeSnapshot), '--schema', 'tenant_a']).status).toBe(0);

    const expected = fingerprint(SOURCE_DB, ['tenant_a']);
    for (const database of [fromSchemaSnapshot, fromWholeSnapshot]) {
      expect(fingerprint(database, ['public', 'tenant_a'])).toEqual(expected);
    }
  });

  test('verify reads every byte and the dump table of contents', () => {
    const verify = coffer(['repo', 'verify', snapshotId, ...repo, '--json']);
    expect(verify.status).toBe(0);
    const report = JSON.parse(verify.stdout);
    expect(report).toMatchObject({ snapshotId, ok: true, kind: 'postgres', server: SERVER.replace(/\/$/, '') });
    expect(report.files).toEqual([
      expect.stringMatching(/^globals\.sql: complete, \d+ bytes$/),
      expect.stringMatching(new RegExp(`^${SOURCE_DB}\\.pgdump: \\d+ entries \\(6 with table data\\), \\d+ bytes read and authenticated$`)),
    ]);
  });

  test('a files snapshot cannot be verified or restored as a database', () => {
    const src = join(dir, 'files');
    mkdirSync(src);
    writeFileSync(join(src, 'a.txt'), 'a');
    const files = JSON.parse(backup(src).stdout).id;
    const verify = coffer(['repo', 'verify', files, ...repo]);
    expect(verify.status).toBe(1);
    expect(verify.stderr).toMatch(/^coffer: this snapshot holds no database backup \(no coffer-source\.json/);
    const restore = coffer(['repo', 'restore', snapshotId, ...repo, '--mysql', 'mysql://root@127.0.0.1:3306/x']);
    expect(restore.stderr.trim()).toBe('coffer: this snapshot holds a PostgreSQL backup; it cannot be restored into MariaDB/MySQL');
  });
});

describe('coffer repo backup --postgres: failures write no snapshot', () => {
  let shims: string;
  const snapshotCount = () => JSON.parse(coffer(['repo', 'snapshots', ...repo, '--json']).stdout).length;

  beforeAll(() => {
    shims = join(dir, 'shims');
    mkdirSync(shims);
  });

  const realPgDump = () => spawnSync('sh', ['-c', 'command -v pg_dump'], { encoding: 'utf8' }).stdout.trim();

  /** A PATH whose pg_dump is `script`; every other tool is the real one. */
  function withPgDump(script: string): Record<string, string> {
    writeFileSync(join(shims, 'pg_dump'), `#!/bin/sh\n${script}\n`);
    chmodSync(join(shims, 'pg_dump'), 0o755);
    return { PATH: `${shims}:${process.env.PATH}` };
  }

  test.each([
    ['a role that does not exist', `postgres://coffer_no_such_role@${server.host}/${SOURCE_DB}`, `cannot connect to PostgreSQL at ${server.hostname}:${server.port || '5432'} as coffer_no_such_role: role "coffer_no_such_role" does not exist`],
    ['a database that does not exist', dbUrl('coffer_no_such_db'), `database "coffer_no_such_db" does not exist on ${server.hostname}:${server.port || '5432'}`],
    ['a schema that does not exist', `${dbUrl(SOURCE_DB)} --schema nope`, `schema "nope" does not exist in database "${SOURCE_DB}" on ${server.hostname}:${server.port || '5432'}`],
    ['a password in the URL', `postgres://root:secret@${server.host}/${SOURCE_DB}`, 'the postgres URL must not carry a password (ps and shell history would show it): give it in a file (--db-password-file FILE) or in the client\'s own files (PGPASSFILE, ~/.pgpass)'],
  ])('%s', (_what, url, message) => {
    const before = snapshotCount();
    const run = backup('--postgres', ...url.split(' '));
    expect(run.status).toBe(1);
    expect(run.stderr.trim()).toBe(`coffer: ${message}`);
    expect(snapshotCount()).toBe(before);
  });

  test('pg_dump missing from PATH', () => {
    const empty = join(dir, 'no-tools');
    mkdirSync(empty);
    const run = coffer(['repo', 'backup', ...repo, '--postgres', dbUrl(SOURCE_DB)], { env: { PATH: empty } });
    expect(run.stderr.trim()).toBe("coffer: pg_dump, psql were not found on PATH: install the PostgreSQL client tools (Debian: postgresql-client) of the server's version or newer");
    expect(run.status).toBe(1);
  });

  test('pg_dump older than the server', () => {
    const env = withPgDump(`if [ "$1" = "--version" ]; then echo "pg_dump (PostgreSQL) 9.6.24"; exit 0; fi\nexec ${realPgDump()} "$@"`);
    const major = psql('postgres', 'SHOW server_version_num;').slice(0, -4);
    const run = coffer(['repo', 'backup', ...repo, '--postgres', dbUrl(SOURCE_DB)], { env });
    expect(run.stderr.trim()).toMatch(new RegExp(`^coffer: pg_dump 9\\.6\\.24 is older than the server \\(PostgreSQL ${major}\\.[0-9.]+\\) and cannot dump it: install the PostgreSQL ${major} client tools or newer$`));
    expect(run.status).toBe(1);
  });

  test('a dump that dies halfway is never stored as a snapshot', () => {
    const real = realPgDump();
    const env = withPgDump(`if [ "$1" = "--version" ]; then exec ${real} --version; fi\n${real} "$@" | head -c 300000\necho "pg_dump: error: Dumping the contents of table \\"pgbench_accounts\\" failed: server closed the connection" >&2\nexit 1`);
    const before = snapshotCount();
    const run = coffer(['repo', 'backup', ...repo, '--postgres', dbUrl(SOURCE_DB)], { env });
    expect(run.status).toBe(1);
    expect(run.stderr.trim().split('\n').pop()).toBe(
      `coffer: pg_dump of ${SOURCE_DB} exited with status 1: pg_dump: error: Dumping the contents of table "pgbench_accounts" failed: server closed the connection`,
    );
    expect(snapshotCount()).toBe(before);
    expect(coffer(['repo', 'check', ...repo]).status).toBe(0);
  });
});

describe('coffer repo backup --postgres: the password', () => {
  test('reaches pg_dump in a private PGPASSFILE, never as an argument, and the file is gone afterwards', () => {
    const shims = join(dir, 'spy');
    mkdirSync(shims);
    const seen = join(dir, 'seen');
    const real = spawnSync('sh', ['-c', 'command -v pg_dump'], { encoding: 'utf8' }).stdout.trim();
    writeFileSync(
      join(shims, 'pg_dump'),
      `#!/bin/sh\nif [ "$1" != "--version" ]; then { echo "args: $*"; echo "file: $PGPASSFILE"; stat -c '%a' "$PGPASSFILE"; cat "$PGPASSFILE"; } > ${seen}; fi\nexec ${real} "$@"\n`,
    );
    chmodSync(join(shims, 'pg_dump'), 0o755);
    const secret = join(dir, 'db-password');
    writeFileSync(secret, 's3cr:et\n');
    const run = coffer(['repo', 'backup', ...repo, '--postgres', dbUrl(SOURCE_DB), '--schema', 'tenant_a', '--db-password-file', secret], { env: { PATH: `${shims}:${process.env.PATH}` } });
    expect(run.status).toBe(0);
    const [args, file, mode, line] = spawnSync('cat', [seen], { encoding: 'utf8' }).stdout.trim().split('\n');
    expect(args).not.toContain('s3cr');
    expect(mode).toBe('600');
    expect(line).toBe('*:*:*:*:s3cr\\:et');
    expect(spawnSync('test', ['-e', file.replace('file: ', '')]).status).toBe(1);
    expect(run.stdout + run.stderr).not.toContain('s3cr');
  });
});

describe('coffer repo backup/restore: hooks', () => {
  test('a failing before hook means no backup; after hooks still run and learn the outcome', () => {
    const marker = join(dir, 'after-ran');
    const run = backup('--postgres', dbUrl(SOURCE_DB), '--before', 'echo stopping app; exit 4', '--after', `echo "$COFFER_OPERATION $COFFER_STATUS" > ${marker}; echo started app`);
    expect(run.status).toBe(1);
    expect(run.stderr.trim().split('\n')).toEqual([
      'before hook 1: stopping app',
      'after hook 1: started app',
      expect.stringMatching(/^after hook 1 finished in \d+\.\d s$/),
      'coffer: before hook 1 exited with status 4 (onFailure: fail)',
    ]);
    expect(spawnSync('cat', [marker], { encoding: 'utf8' }).stdout).toBe('backup failed\n');
  });

  test('a hook that runs too long is stopped and fails the operation', () => {
    const started = Date.now();
    const run = backup('--postgres', dbUrl(SOURCE_DB), '--before', 'sleep 30', '--hook-timeout', '1s');
    expect(run.status).toBe(1);
    expect(run.stderr.trim()).toBe('coffer: before hook 1 did not finish within 1 s and was stopped (onFailure: fail)');
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  test('hooks around a restore see the restored database', () => {
    const copy = targetName('hooked');
    const run = coffer(['repo', 'restore', snapshotId, ...repo, '--postgres', dbUrl(copy), '--after', `psql -X -A -t -h ${server.hostname} -p ${server.port || '5432'} -d ${copy} -c 'SELECT count(*) FROM tenant_a.customers'`]);
    expect(run.status).toBe(0);
    expect(run.stderr).toContain('after hook 1: 5000');
  });
});
