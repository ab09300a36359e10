/*
 * MariaDB/MySQL as a database source (contract: ../database/database-source.ts):
 * mariadb-dump or mysqldump writes one SQL file per database; the mariadb or mysql client
 * runs the preflight queries and the restore. No npm database driver: the client tools are
 * what a database host has, and they read the same option files (~/.my.cnf) as the admin.
 */
export type { MysqlBackupSpec } from './mysql-backup';
export { MYSQL_DUMP_OPTIONS, mysqlDumpFileName, planMysqlBackup } from './mysql-backup';
export type { MysqlRestoreOptions } from './mysql-restore';
export { pickMysqlItem, restoreMysql } from './mysql-restore';
export { verifyMysqlSnapshot } from './mysql-verify';
