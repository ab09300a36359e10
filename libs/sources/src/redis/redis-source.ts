/*
 * Redis as a database source (contract: ../database/database-source.ts): the whole server as
 * one RDB, taken the way a replica gets it (`redis-cli --rdb -`), so nothing is written on the
 * server's disk; restored as dir/dump.rdb for a redis-server to load.
 */
export type { RedisBackupSpec } from './redis-backup';
export { planRedisBackup, rdbLengthFromStderr, REDIS_RDB_FILE } from './redis-backup';
export type { RedisRestoreOptions } from './redis-restore';
export { restoreRedisRdb } from './redis-restore';
export { verifyRedisSnapshot } from './redis-verify';
export type { RedisServerOptions, StartedRedisServer } from './redis-server';
export { startRedisServer } from './redis-server';
