import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describeConnection } from '../database/connection-url';
import { DatabaseBackupPlan } from '../database/database-source';
import { findOnPath } from '../process/tool-detector';
import { mysqlQuery } from '../test-support/test-servers';
import { MYSQL_DUMP_OPTIONS, planMysqlBackup, restoreMysql, verifyMysqlSnapshot } from './mysql-source';
import { describeServerVersion } from './mysql-tools';
import { dirOpener, drain, freePort, makeTempDir, randomSuffix, writePlanToDir, writeShim } from '../test-support/engine-test-kit';
import { createShopDatabase, dropDatabases, requireMysql, schemaObjects, SHOP_TABLES, tableChecksum, testMysqlConnection, uniqueDatabaseName } from './test-support/mysql-fixtures';

/*
 * MariaDB/MySQL source against the machine's real server (TEST_MYSQL_URL): backup into a
 * directory standing in for a snapshot, verify, restore under a new name, compare.
 */

const connection = testMysqlConnection();
const hostPort = `${connection.host}:${connection.port}`;
const source = uniqueDatabaseName('shop');
const created: string[] = [source];
let snapshot: { dir: string; remove: () => Promise<void> };
let plan: DatabaseBackupPlan;
let serverVersion: string;

async function checksums(database: string): Promise<string[]> {
  return Promise.all(SHOP_TABLES.map((table) => tableChecksum(database, table)));
}

function newTarget(label: string): string {
  const name = uniqueDatabaseName(label);
  created.push(name);
  return name;
}

beforeAll(async () => {
  await requireMysql();
  serverVersion = await mysqlQuery('SELECT VERSION()');
  await createShopDatabase(source);
  snapshot = await makeTempDir('mysql');
  plan = await planMysqlBackup({ connection, databases: [source] }, {});
  await writePlanToDir(plan, snapshot.dir);
  await plan.dispose();
});

afterAll(async () => {
  await dropDatabases(...created);
  await snapshot?.remove();
});

describe('MariaDB/MySQL backup and restore', () => {
  test('the plan describes the server, the tool and one SQL dump per database', async () => {
    expect(['mariadb-dump', 'mysqldump']).toContain(plan.manifest.tool.name);
    expect(plan.kind).toBe('mysql');
    expect(plan.paths).toEqual([`mysql://root@${hostPort}/${source}`]);
    expect(plan.manifest).toEqual({
      version: 1,
      kind: 'mysql',
      server: `mysql://root@${hostPort}`,
      serverVersion,
      tool: { name: plan.manifest.tool.name, version: expect.stringMatching(/^\d+\.\d+/) },
      items: [{ file: `${source}.sql`, content: 'database', database: source, format: 'sql' }],
    });
    const dump = await readFile(join(snapshot.dir, `${source}.sql`), 'utf8');
    expect(dump).not.toMatch(/CREATE DATABASE|^USE /m);
    expect(dump).toMatch(/-- Dump completed/);
    expect(MYSQL_DUMP_OPTIONS).toContain('--single-transaction');
  });

  test('verify reports each dump complete with its size', async () => {
    const { size } = await stat(join(snapshot.dir, `${source}.sql`));
    await expect(verifyMysqlSnapshot(plan.manifest, dirOpener(snapshot.dir), {})).resolves.toEqual([`${source}.sql: complete, ${size} bytes`]);
  });

  test('restores into a new database name: same rows, routines, trigger, view and event, all working', async () => {
    const target = newTarget('copy');
    const { size } = await stat(join(snapshot.dir, `${source}.sql`));
    const report = await restoreMysql(plan.manifest, dirOpener(snapshot.dir), { target: { ...connection, database: target }, clean: false });
    expect(report).toEqual({ target: `mysql://root@${hostPort}/${target}`, files: [`${source}.sql`], bytes: size, created: true, notes: [] });

    expect(await checksums(target)).toEqual(await checksums(source));
    expect(await mysqlQuery('SELECT COUNT(*) FROM customers', target)).toBe('4000');
    expect(await schemaObjects(target)).toEqual(await schemaObjects(source));
    expect(await schemaObjects(target)).toEqual(['EVENT nightly_cleanup DISABLED', 'FUNCTION discounted', 'PROCEDURE add_customer', 'TRIGGER customers_audit', 'VIEW customer_totals']);
    expect(await mysqlQuery('SELECT discounted(100)', target)).toBe('90.00');
    await mysqlQuery("CALL add_customer('Restored Ünïcode')", target);
    expect(await mysqlQuery("SELECT a.action FROM audit_log a JOIN customers c ON c.id = a.customer_id WHERE c.name = 'Restored Ünïcode'", target)).toBe('insert');
    expect(await mysqlQuery('SELECT COUNT(*) FROM customer_totals', target)).toBe(await mysqlQuery('SELECT COUNT(*) FROM customer_totals', source));
  });

  test('a target that holds anything is refused, and replaced with clean', async () => {
    const target = newTarget('busy');
    await mysqlQuery(`CREATE DATABASE ${target}; CREATE TABLE ${target}.keep_me (id INT PRIMARY KEY); CREATE TABLE ${target}.and_me (id INT PRIMARY KEY); CREATE VIEW ${target}.v AS SELECT 1 AS one;`);
    const options = { target: { ...connection, database: target }, clean: false };
    await expect(restoreMysql(plan.manifest, dirOpener(snapshot.dir), options)).rejects.toMatchObject({
      name: 'SourceError',
      message: `target database "${target}" on ${hostPort} is not empty (2 tables, 1 view): give --clean to replace it, or pick a new name`,
    });
    expect(await mysqlQuery(`SHOW TABLES FROM ${target}`)).toBe('and_me\nkeep_me\nv');

    const report = await restoreMysql(plan.manifest, dirOpener(snapshot.dir), { ...options, clean: true });
    expect(report.created).toBe(false);
    expect(await mysqlQuery(`SHOW FULL TABLES FROM ${target} WHERE Table_type = 'BASE TABLE'`)).not.toMatch(/keep_me/);
    expect(await checksums(target)).toEqual(await checksums(source));
  });

  test('an existing empty target is used as it is', async () => {
    const target = newTarget('empty');
    await mysqlQuery(`CREATE DATABASE ${target}`);
    const report = await restoreMysql(plan.manifest, dirOpener(snapshot.dir), { target: { ...connection, database: target }, clean: false });
    expect(report.created).toBe(false);
    expect(await checksums(target)).toEqual(await checksums(source));
  });

  test('a snapshot stream that fails fails the restore, and the database it created is dropped again', async () => {
    const target = newTarget('broken');
    const dump = await readFile(join(snapshot.dir, `${source}.sql`));
    const failing = () =>
      Readable.from(
        (async function* () {
          yield dump.subarray(0, 100_000);
          throw new Error('chunk 7 is damaged');
        })(),
      );
    await expect(restoreMysql(plan.manifest, failing, { target: { ...connection, database: target }, clean: false })).rejects.toThrow('chunk 7 is damaged');
    expect(await mysqlQuery(`SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '${target}'`)).toBe('0');
  });
});

describe('MariaDB/MySQL with several databases in one snapshot', () => {
  const second = uniqueDatabaseName('second');
  let dir: { dir: string; remove: () => Promise<void> };
  let twoPlan: DatabaseBackupPlan;

  beforeAll(async () => {
    created.push(second);
    await mysqlQuery(`CREATE DATABASE ${second}; CREATE TABLE ${second}.notes (id INT PRIMARY KEY, body VARCHAR(50)); INSERT INTO ${second}.notes VALUES (1, 'only in the second');`);
    dir = await makeTempDir('mysql-two');
    twoPlan = await planMysqlBackup({ connection, databases: [source, second] }, {});
    await writePlanToDir(twoPlan, dir.dir);
    await twoPlan.dispose();
  });
  afterAll(() => dir?.remove());

  test('one file and one path per database', async () => {
    expect(twoPlan.paths).toEqual([describeConnection('mysql', connection, source), describeConnection('mysql', connection, second)]);
    expect(twoPlan.manifest.items.map((item) => item.file)).toEqual([`${source}.sql`, `${second}.sql`]);
    expect((await readdir(dir.dir)).sort()).toEqual([`${second}.sql`, `${source}.sql`, 'coffer-source.json'].sort());
    expect(await verifyMysqlSnapshot(twoPlan.manifest, dirOpener(dir.dir), {})).toHaveLength(2);
  });

  test('a restore must say which database, and gets the one it names', async () => {
    const target = newTarget('pick');
    const options = { target: { ...connection, database: target }, clean: false };
    await expect(restoreMysql(twoPlan.manifest, dirOpener(dir.dir), options)).rejects.toMatchObject({
      message: `this snapshot holds several databases ("${source}", "${second}"): name the one to restore (--database NAME)`,
    });
    await expect(restoreMysql(twoPlan.manifest, dirOpener(dir.dir), { ...options, sourceDatabase: 'nope' })).rejects.toMatchObject({
      message: `this snapshot holds no database "nope"; it holds "${source}", "${second}"`,
    });
    const report = await restoreMysql(twoPlan.manifest, dirOpener(dir.dir), { ...options, sourceDatabase: second });
    expect(report.files).toEqual([`${second}.sql`]);
    expect(await mysqlQuery('SELECT body FROM notes', target)).toBe('only in the second');
  });
});

describe('MariaDB/MySQL preflight and failures', () => {
  let temp: { dir: string; remove: () => Promise<void> };
  let realDump: string;
  beforeEach(async () => {
    temp = await makeTempDir('mysql-fail');
    realDump = (await findOnPath('mariadb-dump', process.env.PATH ?? '')) ?? (await findOnPath('mysqldump', process.env.PATH ?? ''))!;
  });
  afterEach(() => temp.remove());

  test('no dump tool on the PATH', async () => {
    await expect(planMysqlBackup({ connection, databases: [source] }, { path: temp.dir })).rejects.toMatchObject({
      name: 'SourceError',
      message: 'neither mariadb-dump nor mysqldump is on the PATH: install the MariaDB or MySQL client tools (Debian: apt install mariadb-client)',
    });
  });

  test('a dump tool older than the server', async () => {
    await writeShim(temp.dir, 'mariadb-dump', `if [ "$1" = "--version" ]; then echo "mariadb-dump  Ver 10.19 Distrib 10.5.23-MariaDB, for debian-linux-gnu (x86_64)"; exit 0; fi\nexec ${realDump} "$@"`);
    const [major, minor] = serverVersion.split('.');
    await expect(planMysqlBackup({ connection, databases: [source] }, { path: `${temp.dir}:${process.env.PATH}` })).rejects.toMatchObject({
      name: 'SourceError',
      message: `mariadb-dump 10.5 is older than the server (${describeServerVersion(serverVersion)}): install a client of ${major}.${minor} or newer`,
    });
  });

  test('a database that does not exist', async () => {
    const missing = uniqueDatabaseName('missing');
    await expect(planMysqlBackup({ connection, databases: [source, missing] }, {})).rejects.toMatchObject({
      name: 'SourceError',
      message: `database "${missing}" does not exist on ${hostPort}`,
    });
  });

  test('nothing listening on the port', async () => {
    const port = await freePort();
    await expect(planMysqlBackup({ connection: { ...connection, port }, databases: [source] }, {})).rejects.toMatchObject({
      name: 'SourceError',
      message: expect.stringMatching(new RegExp(`^cannot connect to MariaDB/MySQL at 127\\.0\\.0\\.1:${port} as "root": ".+"; check that the server is running and the host and port are right$`)),
    });
  });

  test('a dump that exits non-zero halfway fails its stream, and verify catches a cut dump', async () => {
    await writeShim(temp.dir, 'mariadb-dump', `if [ "$1" = "--version" ]; then exec ${realDump} --version; fi\n${realDump} "$@" | head -c 2000\nexit 2`);
    const cut = await planMysqlBackup({ connection, databases: [source] }, { path: `${temp.dir}:${process.env.PATH}` });
    try {
      await expect(drain(cut.files[0].open())).rejects.toThrow(`mariadb-dump of ${source} exited with status 2`);
    } finally {
      await cut.dispose();
    }
    const head = (await readFile(join(snapshot.dir, `${source}.sql`))).subarray(0, 2000);
    await writeFile(join(temp.dir, `${source}.sql`), head);
    await expect(verifyMysqlSnapshot(plan.manifest, dirOpener(temp.dir), {})).rejects.toMatchObject({
      name: 'SourceError',
      message: `${source}.sql is not complete: it does not end with the dump tool's "-- Dump completed" line (2000 bytes)`,
    });
  });

  describe('with a user that has a password', () => {
    const user = `coffer_it_user_${randomSuffix()}`;
    // Everything an option file must quote or escape. (Global SELECT: dumping routines needs it.)
    const password = `p#ss "wo\\rd" 'x' ${randomSuffix()}`;
    const escapedPassword = password.replace(/\\/g, '\\\\').replace(/'/g, "\\'");
    beforeAll(async () => {
      await requireMysql();
      await mysqlQuery(
        ['%', '127.0.0.1', 'localhost']
          .map((host) => `CREATE USER '${user}'@'${host}' IDENTIFIED BY '${escapedPassword}'; GRANT ALL ON \`${source}\`.* TO '${user}'@'${host}'; GRANT SELECT ON *.* TO '${user}'@'${host}';`)
          .join('\n'),
      );
    });
    afterAll(() => mysqlQuery(['%', '127.0.0.1', 'localhost'].map((host) => `DROP USER IF EXISTS '${user}'@'${host}';`).join('\n')));

    test('a wrong password is refused with the server reason, naming host, port and user', async () => {
      await expect(planMysqlBackup({ connection: { ...connection, user, password: 'wrong' }, databases: [source] }, { tempDir: temp.dir })).rejects.toMatchObject({
        name: 'SourceError',
        message: expect.stringMatching(
          new RegExp(`^cannot log in to MariaDB/MySQL at ${hostPort.replace(/\./g, '\\.')} as "${user}": the server says "Access denied for user '${user}'@'(localhost|127\\.0\\.0\\.1)' \\(using password: YES\\)"; check the user and the password$`),
        ),
      });
      expect(await readdir(temp.dir)).toEqual([]); // the password file is gone
    });

    test('the right password works through a private option file that dispose removes', async () => {
      const logged: string[] = [];
      const withPassword = await planMysqlBackup({ connection: { ...connection, user, password }, databases: [source] }, { tempDir: temp.dir, log: (line) => logged.push(line) });
      const [privateDir] = await readdir(temp.dir);
      expect((await stat(join(temp.dir, privateDir))).mode & 0o777).toBe(0o700);
      const [optionFile] = await readdir(join(temp.dir, privateDir));
      expect((await stat(join(temp.dir, privateDir, optionFile))).mode & 0o777).toBe(0o600);
      expect(withPassword.manifest.server).toBe(`mysql://${user}@${hostPort}`);
      expect(JSON.stringify(withPassword)).not.toContain(password);

      const dump = await drain(withPassword.files[0].open());
      expect(dump.toString('utf8')).toMatch(/-- Dump completed/);
      expect(logged.join('\n')).not.toContain(password);
      await withPassword.dispose();
      expect(await readdir(temp.dir)).toEqual([]);
    });
  });
});
