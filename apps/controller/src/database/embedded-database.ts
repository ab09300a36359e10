import { fork } from 'node:child_process';
import { existsSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LoggerService } from '@nestjs/common';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { StartupError } from '../boot/startup-error';
import type { DatabaseConnection } from './database-connection';

/** The embedded database's directory inside the data directory. */
export const EMBEDDED_DATABASE_DIR = 'db';
const LOCK_FILE = 'db.pid';
/** The socket's name as libpq derives it from a directory and a port. */
const SOCKET_PORT = 5432;
const SOCKET_FILE = `.s.PGSQL.${SOCKET_PORT}`;
/** Longest unix socket path Linux takes (sun_path is 108 bytes with the terminating NUL). */
const MAX_SOCKET_PATH = 107;

/*
 * PGlite is one PostgreSQL session in WebAssembly. pglite-socket serves it to the ordinary
 * `pg` driver and can multiplex several client connections (maxConnections), but it queues
 * protocol messages one at a time: a message larger than one socket read (~64 KiB, e.g. a
 * big jsonb parameter) lets another connection's Parse/Bind slip in between, which binds
 * the wrong statement (measured: "bind message supplies 2 parameters, but prepared
 * statement requires 1"). One connection is the size that is correct, so TypeORM gets a
 * pool of one; transactions then simply run one after another.
 */
const EMBEDDED_POOL_SIZE = 1;

/*
 * PostgreSQL's default shared_buffers (128 MB) is most of PGlite's resident memory; the
 * catalog of a fleet fits in far less.
 */
const EMBEDDED_POSTGRESQL_CONF = 'shared_buffers = 16MB\n';

/**
 * Starts the embedded PostgreSQL in DATA_DIR/db for the controller's own use. Creates the
 * database on first start. One controller per data directory: a second one is refused
 * while the first runs.
 *
 * PGlite accepts any client without a password, so it is served on a unix socket inside
 * the data directory (mode 700: only this user can connect), not on a TCP port every local
 * user could reach. Only when the directory's path is too long for a socket does it fall
 * back to 127.0.0.1 on a random port, with a warning.
 */
export async function startEmbeddedDatabase(dataDir: string, logger: LoggerService): Promise<DatabaseConnection> {
  const releaseLock = lockDataDir(dataDir);
  let db: PGlite | undefined;
  try {
    const dir = join(dataDir, EMBEDDED_DATABASE_DIR);
    if (!existsSync(join(dir, 'PG_VERSION'))) {
      logger.log(`creating the embedded database in ${dir} (first start only)`);
      await createDatabaseDir(dir);
    }
    db = await PGlite.create({ dataDir: dir, postgresqlconf: EMBEDDED_POSTGRESQL_CONF });
    const socketPath = join(dataDir, SOCKET_FILE);
    const useSocket = socketPath.length <= MAX_SOCKET_PATH;
    if (useSocket) rmSync(socketPath, { force: true }); // left by a controller that was killed (the lock is ours)
    else logger.warn(`${dataDir} is too long a path for a unix socket: the embedded database listens on 127.0.0.1, where other local users can reach it`);
    const server = useSocket
      ? new PGLiteSocketServer({ db, path: socketPath, maxConnections: EMBEDDED_POOL_SIZE })
      : new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: EMBEDDED_POOL_SIZE });
    await server.start();
    const opened = db;
    const target = useSocket
      ? { socketDir: dataDir, port: SOCKET_PORT, username: 'postgres', database: 'postgres' }
      : { url: `postgres://postgres@${server.getServerConn()}/postgres` };
    return {
      target,
      poolSize: EMBEDDED_POOL_SIZE,
      embedded: true,
      close: async () => {
        await server.stop();
        await opened.close();
        releaseLock();
      },
    };
  } catch (err) {
    await db?.close().catch(() => undefined);
    releaseLock();
    if (err instanceof StartupError) throw err;
    throw new StartupError(`cannot open the embedded database in ${join(dataDir, EMBEDDED_DATABASE_DIR)}: ${(err as Error).message}`);
  }
}

/**
 * Runs initdb in a child process (see embedded-database-init.ts) into a scratch directory,
 * then renames it into place, so a start-up interrupted half-way leaves no half-made database.
 */
async function createDatabaseDir(dir: string): Promise<void> {
  const scratch = `${dir}.creating`;
  rmSync(scratch, { recursive: true, force: true });
  const stderr: string[] = [];
  const exitCode = await new Promise<number | null>((resolve, reject) => {
    const child = fork(join(__dirname, 'embedded-database-init.js'), [scratch], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk.toString('utf8')));
    child.on('error', reject);
    child.on('exit', (code) => resolve(code));
  });
  if (exitCode !== 0) {
    rmSync(scratch, { recursive: true, force: true });
    throw new StartupError(`cannot create the embedded database in ${dir}: ${stderr.join('').trim() || `initdb exited with ${exitCode}`}`);
  }
  renameSync(scratch, dir);
}

/** Takes DATA_DIR/db.pid for this process; a file left by a process that is gone is taken over. */
function lockDataDir(dataDir: string): () => void {
  const file = join(dataDir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
      let released = false;
      return () => {
        if (released) return;
        released = true;
        try {
          unlinkSync(file);
        } catch {
          // already gone: nothing to release
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new StartupError(`cannot lock ${file}: ${(err as Error).message}`);
    }
    const holder = Number.parseInt(readFileSync(file, 'utf8'), 10);
    if (Number.isInteger(holder) && holder !== process.pid && processIsAlive(holder)) {
      throw new StartupError(`another controller (pid ${holder}) is using the embedded database in ${dataDir}: stop it first, or give this one its own --data-dir`);
    }
    unlinkSync(file); // left behind by a controller that was killed
  }
  throw new StartupError(`cannot lock ${file}: another controller is starting on the same data directory`);
}

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
