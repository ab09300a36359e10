import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { assertBuilt, coffer, passwordFile, removeTree, tempDir } from './test-support/coffer-process';

/*
 * `coffer repo backup --mysql / --redis` and their restores, through a real repository,
 * against the machine's MariaDB (TEST_MYSQL_URL, default mysql://root@127.0.0.1:3306) and
 * Redis (TEST_REDIS_URL, default redis://127.0.0.1:6379). The engines' own tests in
 * libs/sources go through every type and failure; these prove the CLI wiring end to end.
 */

const MYSQL = new URL(process.env.TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306');
const REDIS = new URL(process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379');
const suffix = `${process.pid}_${Date.now().toString(36)}`;
const SOURCE_DB = `coffer_it_cli_${suffix}`;
const COPY_DB = `coffer_it_cli_copy_${suffix}`;

function mariadb(sql: string): string {
  const result = spawnSync('mariadb', ['--batch', '--skip-column-names', '-h', MYSQL.hostname, '-P', MYSQL.port || '3306', '-u', MYSQL.username || 'root'], { input: sql, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`mariadb failed: ${result.stderr || result.error?.message}`);
  return result.stdout.trim();
}

function redisCli(port: string | number, ...args: string[]): string {
  const result = spawnSync('redis-cli', ['-h', REDIS.hostname, '-p', String(port), ...args], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`redis-cli failed: ${result.stderr || result.error?.message}`);
  return result.stdout.trim();
}

let dir: string;
let repo: string[];

beforeAll(() => {
  assertBuilt();
  dir = tempDir('engines');
  repo = ['--repo', join(dir, 'repo'), '--password-file', passwordFile(dir, 'password', 'correct horse')];
  expect(coffer(['repo', 'init', ...repo]).status).toBe(0);
});

afterAll(() => {
  try {
    mariadb(`DROP DATABASE IF EXISTS ${SOURCE_DB}; DROP DATABASE IF EXISTS ${COPY_DB};`);
  } catch {
    // best effort
  }
  if (dir) removeTree(dir);
});

test('MariaDB: a database with a routine and a trigger round-trips under another name', () => {
  mariadb(`CREATE DATABASE ${SOURCE_DB}; USE ${SOURCE_DB};
    CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(50) CHARACTER SET utf8mb4, price DECIMAL(8,2));
    CREATE TABLE audit (id INT AUTO_INCREMENT PRIMARY KEY, item INT);
    CREATE TRIGGER items_audit AFTER INSERT ON items FOR EACH ROW INSERT INTO audit (item) VALUES (NEW.id);
    CREATE FUNCTION double_price(p DECIMAL(8,2)) RETURNS DECIMAL(10,2) DETERMINISTIC RETURN p * 2;
    INSERT INTO items SELECT seq, CONCAT('item ', seq, ' ü'), seq / 7 FROM seq_1_to_3000;`);
  const checksum = (db: string) => mariadb(`SET SESSION group_concat_max_len = 1073741824; SELECT COUNT(*), MD5(GROUP_CONCAT(CONCAT_WS('|', id, name, price) ORDER BY id SEPARATOR '\\n')) FROM ${db}.items;`);

  const backup = coffer(['repo', 'backup', ...repo, '--mysql', `mysql://${MYSQL.username || 'root'}@${MYSQL.host}/${SOURCE_DB}`, '--json']);
  expect(backup.status).toBe(0);
  const snapshot = JSON.parse(backup.stdout);
  expect(snapshot.sourceKind).toBe('mysql');

  const restore = coffer(['repo', 'restore', snapshot.id, ...repo, '--mysql', `mysql://${MYSQL.username || 'root'}@${MYSQL.host}/${COPY_DB}`]);
  expect(restore.status).toBe(0);
  expect(checksum(COPY_DB)).toBe(checksum(SOURCE_DB));
  expect(checksum(COPY_DB)).toMatch(/^3000\t/);
  expect(mariadb(`SELECT ${COPY_DB}.double_price(21.5); INSERT INTO ${COPY_DB}.items VALUES (9999, 'new', 1); SELECT COUNT(*) FROM ${COPY_DB}.audit WHERE item = 9999;`)).toBe('43.00\n1');

  const again = coffer(['repo', 'restore', snapshot.id, ...repo, '--mysql', `mysql://${MYSQL.username || 'root'}@${MYSQL.host}/${COPY_DB}`]);
  expect(again.status).toBe(1);
  expect(again.stderr).toMatch(new RegExp(`^coffer: target database "${COPY_DB}" on ${MYSQL.hostname}:${MYSQL.port || '3306'} is not empty \\(.*\\): give --clean to replace it, or pick a new name\\n$`));

  const verify = coffer(['repo', 'verify', snapshot.id, ...repo]);
  expect(verify.stdout).toMatch(new RegExp(`^${SOURCE_DB}\\.sql: complete, \\d+ bytes\\n`));
});

test('Redis: an RDB taken over replication restores into a directory and a server started on it', async () => {
  const prefix = `coffer:it:cli:${suffix}`;
  redisCli(REDIS.port || 6379, 'SET', `${prefix}:s`, 'value');
  redisCli(REDIS.port || 6379, 'HSET', `${prefix}:h`, 'f', 'v');
  redisCli(REDIS.port || 6379, 'SET', `${prefix}:ttl`, 'soon', 'EX', '3600');
  try {
    const backup = coffer(['repo', 'backup', ...repo, '--redis', `redis://${REDIS.host}`, '--json']);
    expect(backup.status).toBe(0);
    const snapshot = JSON.parse(backup.stdout);
    expect(snapshot.paths).toEqual([`redis://${REDIS.hostname}:${REDIS.port || 6379}`]);

    const target = join(dir, 'redis-restore');
    const port = 20000 + (process.pid % 20000);
    const restore = coffer(['repo', 'restore', snapshot.id, ...repo, '--redis-dir', target, '--redis-port', String(port), '--json']);
    expect(restore.status).toBe(0);
    const report = JSON.parse(restore.stdout);
    try {
      expect(report).toMatchObject({ target, files: ['dump.rdb'], redisServer: { port } });
      expect(redisCli(port, 'GET', `${prefix}:s`)).toBe('value');
      expect(redisCli(port, 'HGET', `${prefix}:h`, 'f')).toBe('v');
      expect(Number(redisCli(port, 'TTL', `${prefix}:ttl`))).toBeGreaterThan(3000);
    } finally {
      process.kill(report.redisServer.pid, 'SIGTERM');
    }
    const refused = coffer(['repo', 'restore', snapshot.id, ...repo, '--redis-dir', target]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toBe(`coffer: ${join(target, 'dump.rdb')} already exists: stop the Redis server that uses it first (it would overwrite the restored file), then give --clean to replace it\n`);
  } finally {
    redisCli(REDIS.port || 6379, 'DEL', `${prefix}:s`, `${prefix}:h`, `${prefix}:ttl`);
  }
});
