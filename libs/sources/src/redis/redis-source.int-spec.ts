import { spawn } from 'node:child_process';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import { parseDatabaseUrl } from '../database/connection-url';
import { DatabaseBackupPlan } from '../database/database-source';
import { runTool } from '../process/run-tool';
import { requireServer, TEST_REDIS_URL } from '../test-support/test-servers';
import { dirOpener, drain, freePort, makeTempDir, writePlanToDir } from '../test-support/engine-test-kit';
import { planRedisBackup, restoreRedisRdb, startRedisServer, StartedRedisServer, verifyRedisSnapshot } from './redis-source';
import { fillRedisDb, KeyImage, readRedisDb } from './test-support/redis-fixtures';
import { RespClient } from './test-support/resp-client';

/*
 * Redis source against the machine's real server (TEST_REDIS_URL): logical db 9 is filled
 * with every data type, the server is backed up into a directory standing in for a snapshot,
 * restored into another directory, loaded by a redis-server of our own and compared key by key.
 */

const connection = parseDatabaseUrl('redis', TEST_REDIS_URL);
const hostPort = `${connection.host}:${connection.port}`;
const DB = 9;
const cleanups: (() => Promise<unknown> | void)[] = [];
let source: RespClient;
let snapshotDir: string;
let plan: DatabaseBackupPlan;
let keyCount: number;
const backupLog: string[] = [];

async function tempDir(label: string): Promise<string> {
  const temp = await makeTempDir(label);
  cleanups.push(temp.remove);
  return temp.dir;
}

async function started(options: Parameters<typeof startRedisServer>[0]): Promise<StartedRedisServer> {
  const server = await startRedisServer(options);
  cleanups.push(() => server.stop());
  return server;
}

beforeAll(async () => {
  await requireServer('Redis', 'TEST_REDIS_URL', TEST_REDIS_URL, async () => {
    const probe = await RespClient.connect(connection.port!, connection.host);
    probe.close();
  });
  source = await RespClient.connect(connection.port!, connection.host);
  keyCount = await fillRedisDb(source, DB);
  snapshotDir = await tempDir('redis');
  plan = await planRedisBackup({ connection }, { log: (line) => backupLog.push(line) });
  await writePlanToDir(plan, snapshotDir);
  await plan.dispose();
});

afterAll(async () => {
  if (source) {
    await source.command('SELECT', DB);
    await source.command('FLUSHDB');
    source.close();
  }
  for (const cleanup of cleanups.reverse()) await cleanup();
});

describe('Redis backup', () => {
  test('the plan describes the server and holds one RDB file', async () => {
    const info = ((await source.command('INFO', 'server')) as Buffer).toString();
    expect(plan.kind).toBe('redis');
    expect(plan.paths).toEqual([`redis://${hostPort}`]);
    expect(plan.manifest).toEqual({
      version: 1,
      kind: 'redis',
      server: `redis://${hostPort}`,
      serverVersion: /redis_version:(\S+)/.exec(info)![1],
      tool: { name: 'redis-cli', version: expect.stringMatching(/^\d+\.\d+/) },
      items: [{ file: 'dump.rdb', content: 'rdb', format: 'rdb' }],
    });
  });

  test('the stored file is exactly the RDB: no end-of-file marker after it', async () => {
    const rdb = await readFile(join(snapshotDir, 'dump.rdb'));
    expect(rdb.subarray(0, 5).toString()).toBe('REDIS');
    // An RDB ends with the EOF opcode 0xFF and an 8-byte checksum.
    expect(rdb[rdb.length - 9]).toBe(0xff);
    const reported = /Transfer finished with success after (\d+) bytes/.exec(backupLog.join('\n'));
    if (reported) expect(Number(reported[1])).toBe(rdb.length);
  });

  test('verify runs redis-check-rdb on it', async () => {
    const { size } = await stat(join(snapshotDir, 'dump.rdb'));
    const [line] = await verifyRedisSnapshot(plan.manifest, dirOpener(snapshotDir), {});
    const keys = Number(/^dump\.rdb: RDB OK, (\d+) keys, (\d+) bytes$/.exec(line)?.[1]);
    expect(line).toBe(`dump.rdb: RDB OK, ${keys} keys, ${size} bytes`);
    expect(keys).toBeGreaterThanOrEqual(keyCount);
  });

  test('verify reports a damaged RDB', async () => {
    const dir = await tempDir('redis-damaged');
    await writeFile(join(dir, 'dump.rdb'), (await readFile(join(snapshotDir, 'dump.rdb'))).subarray(0, 5000));
    await expect(verifyRedisSnapshot(plan.manifest, dirOpener(dir), {})).rejects.toMatchObject({
      name: 'SourceError',
      message: expect.stringMatching(/^dump\.rdb is damaged: redis-check-rdb says "\[offset \d+\] Unexpected EOF reading RDB file"$/),
    });
  });
});

describe('Redis restore', () => {
  test('a restored RDB loads in a new server with every key, value and TTL of db 9', async () => {
    const dir = await tempDir('redis-restore');
    const { size } = await stat(join(snapshotDir, 'dump.rdb'));
    const report = await restoreRedisRdb(plan.manifest, dirOpener(snapshotDir), { dir: join(dir, 'data'), clean: false });
    expect(report).toEqual({
      target: join(dir, 'data'),
      files: ['dump.rdb'],
      bytes: size,
      created: true,
      notes: [`start a server on it with: redis-server --dir ${join(dir, 'data')} --dbfilename dump.rdb`],
    });

    const server = await started({ dir: join(dir, 'data'), port: await freePort() });
    const copy = await RespClient.connect(server.port);
    cleanups.push(() => copy.close());
    await copy.command('CONFIG', 'SET', 'repl-diskless-sync-delay', '0'); // the backups below need not wait 5 s for more replicas
    const restored = await readRedisDb(copy, DB);
    const original = await readRedisDb(source, DB);
    expect(original.size).toBe(keyCount);
    expect([...restored.keys()].sort()).toEqual([...original.keys()].sort());
    const mismatches = [...original].filter(([key, image]) => !sameKey(image, restored.get(key)!)).map(([key]) => key);
    expect(mismatches).toEqual([]);
    expect(new Set([...restored.values()].map((image) => image.type))).toEqual(new Set(['string', 'hash', 'list', 'set', 'zset', 'stream']));
    expect([...restored.values()].filter((image) => image.pttl > 0)).toHaveLength(keyCount / 5);

    // Backed up again from that quiet server, the stream is exactly as long as the RDB that
    // redis-cli writes to a file (where it cuts its end marker off itself).
    const again = await planRedisBackup({ connection: { host: '127.0.0.1', port: server.port } }, {});
    const streamed = await drain(again.files[0].open());
    const viaFile = join(dir, 'via-file.rdb');
    await runTool('redis-cli', ['-p', String(server.port), '--rdb', viaFile]);
    expect(streamed.length).toBe((await stat(viaFile)).size);
  });

  test('an existing dump.rdb is refused, and replaced with clean', async () => {
    const dir = await tempDir('redis-existing');
    await writeFile(join(dir, 'dump.rdb'), 'older data');
    const options = { dir, clean: false };
    await expect(restoreRedisRdb(plan.manifest, dirOpener(snapshotDir), options)).rejects.toMatchObject({
      name: 'SourceError',
      message: `${join(dir, 'dump.rdb')} already exists: stop the Redis server that uses it first (it would overwrite the restored file), then give --clean to replace it`,
    });
    expect(await readFile(join(dir, 'dump.rdb'), 'utf8')).toBe('older data');

    const report = await restoreRedisRdb(plan.manifest, dirOpener(snapshotDir), { ...options, clean: true });
    expect(report.created).toBe(false);
    expect(report.notes[0]).toBe(`replaced the dump.rdb that was in ${dir}`);
    expect(await readFile(join(dir, 'dump.rdb'))).toEqual(await readFile(join(snapshotDir, 'dump.rdb')));
  });

  test('a restore whose snapshot stream fails leaves no dump.rdb, not even half of one', async () => {
    const dir = await tempDir('redis-broken');
    const rdb = await readFile(join(snapshotDir, 'dump.rdb'));
    const failing = () =>
      Readable.from(
        (async function* () {
          yield rdb.subarray(0, 1000);
          throw new Error('chunk 3 is damaged');
        })(),
      );
    await expect(restoreRedisRdb(plan.manifest, failing, { dir, clean: true })).rejects.toThrow('chunk 3 is damaged');
    expect(await readdir(dir)).toEqual([]);
  });
});

describe('startRedisServer', () => {
  test('detached: its pid is in dir/redis.pid, and stop() ends it', async () => {
    const dir = await tempDir('redis-detach');
    const server = await started({ dir, port: await freePort(), detach: true });
    expect(Number(await readFile(join(dir, 'redis.pid'), 'utf8'))).toBe(server.pid);
    await server.stop();
    expect(() => process.kill(server.pid, 0)).toThrow();
  });

  test('a port that is taken', async () => {
    const dir = await tempDir('redis-port');
    await expect(startRedisServer({ dir, port: connection.port!, host: connection.host })).rejects.toMatchObject({
      name: 'SourceError',
      message: `redis-server cannot listen on ${hostPort}: the port is taken; pick another port or stop what uses it`,
    });
  });

  test('an RDB that cannot be loaded', async () => {
    const dir = await tempDir('redis-garbage');
    await writeFile(join(dir, 'dump.rdb'), (await readFile(join(snapshotDir, 'dump.rdb'))).subarray(0, 3000));
    await expect(startRedisServer({ dir, port: await freePort() })).rejects.toMatchObject({
      name: 'SourceError',
      // Redis's own words for the cause, which depend on where the cut falls (an unexpected
      // end of file, a stream that fails to load…), never its closing "Terminating server…".
      message: expect.stringMatching(new RegExp(`^redis-server cannot load ${join(dir, 'dump.rdb')}: "(?!Terminating)[^"]*(RDB|rdb|EOF)[^"]*" \\(see ${join(dir, 'redis.log')}\\)$`)),
    });
  });
});

describe('Redis preflight', () => {
  test('no redis-cli on the PATH', async () => {
    const empty = await tempDir('redis-nopath');
    await expect(planRedisBackup({ connection }, { path: empty })).rejects.toMatchObject({
      name: 'SourceError',
      message: 'redis-cli is not on the PATH: install the Redis client tools (Debian: apt install redis-tools)',
    });
  });

  test('nothing listening on the port', async () => {
    const port = await freePort();
    await expect(planRedisBackup({ connection: { host: '127.0.0.1', port } }, {})).rejects.toMatchObject({
      name: 'SourceError',
      message: `cannot connect to Redis at 127.0.0.1:${port}: "Connection refused"; check that the server is running and the host and port are right`,
    });
  });

  describe('a server with a password', () => {
    const password = 'c0ffer-secret';
    let port: number;
    beforeAll(async () => {
      const dir = await tempDir('redis-auth');
      port = await freePort();
      const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--repl-diskless-sync-delay', '0', '--requirepass', password], { stdio: 'ignore' });
      cleanups.push(() => new Promise((resolve) => (child.exitCode !== null ? resolve(undefined) : (child.once('exit', resolve), child.kill('SIGTERM')))));
      await waitFor(async () => (await runTool('redis-cli', ['-p', String(port), 'PING'], { env: { ...process.env, REDISCLI_AUTH: password } }).catch(() => ({ stdout: '' }))).stdout.trim() === 'PONG', 10_000);
    });

    test('no password: says to give one', async () => {
      await expect(planRedisBackup({ connection: { host: '127.0.0.1', port } }, {})).rejects.toMatchObject({
        name: 'SourceError',
        message: `Redis at 127.0.0.1:${port} requires a password: give it in a file (--db-password-file FILE) or in REDISCLI_AUTH`,
      });
    });

    test('a wrong password: quotes the server', async () => {
      await expect(planRedisBackup({ connection: { host: '127.0.0.1', port, password: 'wrong' } }, {})).rejects.toMatchObject({
        name: 'SourceError',
        message: `Redis at 127.0.0.1:${port} refused the password: "WRONGPASS invalid username-password pair or user is disabled."; check the password you gave`,
      });
    });

    test('the right password reaches the child through its environment only', async () => {
      const withPassword = await planRedisBackup({ connection: { host: '127.0.0.1', port, password } }, {});
      expect(JSON.stringify(withPassword)).not.toContain(password);
      const rdb = await drain(withPassword.files[0].open());
      expect(rdb.subarray(0, 5).toString()).toBe('REDIS');
      await withPassword.dispose();
    });
  });
});

function sameKey(original: KeyImage, restored: KeyImage): boolean {
  if (original.type !== restored.type || original.value !== restored.value) return false;
  if (original.pttl < 0 || restored.pttl < 0) return original.pttl === restored.pttl;
  // The RDB keeps absolute expiry times: the TTL left differs only by the time that passed.
  return Math.abs(original.pttl - restored.pttl) < 120_000;
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await delay(50);
  }
}
