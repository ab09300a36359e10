import { parseDatabaseUrl } from '../../database/connection-url';
import { DatabaseConnection } from '../../database/database-source';
import { mysqlQuery, requireServer, TEST_MYSQL_URL } from '../../test-support/test-servers';
import { quoteIdentifier } from '../mysql-session';
import { randomSuffix } from '../../test-support/engine-test-kit';

/** The test server as a connection (root, empty password unless TEST_MYSQL_URL says otherwise). */
export function testMysqlConnection(): DatabaseConnection {
  return parseDatabaseUrl('mysql', TEST_MYSQL_URL);
}

/** Fails (never skips) when the test server does not answer. */
export function requireMysql(): Promise<void> {
  return requireServer('MariaDB/MySQL', 'TEST_MYSQL_URL', TEST_MYSQL_URL, () => mysqlQuery('SELECT 1'));
}

/** "coffer_it_mysql_<label>_<random>": a database name no parallel run uses. */
export function uniqueDatabaseName(label: string): string {
  return `coffer_it_mysql_${label}_${randomSuffix()}`;
}

/** Drops the databases; ones that do not exist are fine. */
export async function dropDatabases(...names: string[]): Promise<void> {
  if (names.length > 0) await mysqlQuery(names.map((name) => `DROP DATABASE IF EXISTS ${quoteIdentifier(name)};`).join('\n'));
}

/**
 * A database with something of everything a dump must carry: a table of a few thousand rows
 * with UTF-8 text, BLOBs and NULLs, a table with a foreign key, a view, a function, a
 * procedure, a trigger and a (disabled) event.
 */
export async function createShopDatabase(name: string): Promise<void> {
  await mysqlQuery(`
    CREATE DATABASE ${quoteIdentifier(name)} CHARACTER SET utf8mb4;
    USE ${quoteIdentifier(name)};
    CREATE TABLE digits (d INT PRIMARY KEY);
    INSERT INTO digits VALUES (0),(1),(2),(3),(4),(5),(6),(7),(8),(9);
    CREATE TABLE customers (
      id INT PRIMARY KEY AUTO_INCREMENT,
      name VARCHAR(100) NOT NULL,
      note TEXT NULL,
      photo BLOB NULL,
      balance DECIMAL(12,2) NULL,
      joined DATETIME(3) NULL
    ) ENGINE=InnoDB;
    INSERT INTO customers (id, name, note, photo, balance, joined)
      SELECT n, CONCAT('Zoë Ångström 日本語 ✓ #', n),
             IF(n % 7 = 0, NULL, REPEAT(CONCAT('tab\\there "quoted" \\'single\\' back\\\\slash\\nline ', n), 1 + n % 4)),
             IF(n % 5 = 0, NULL, UNHEX(CONCAT(SHA2(n, 256), '00FF00', MD5(n)))),
             IF(n % 11 = 0, NULL, n * 1.25 - 1000),
             IF(n % 13 = 0, NULL, TIMESTAMP('2024-02-29 12:00:00.125') + INTERVAL n MINUTE)
      FROM (SELECT 1 + a.d + 10 * b.d + 100 * c.d + 1000 * e.d AS n FROM digits a, digits b, digits c, digits e) seq
      WHERE n <= 4000;
    CREATE TABLE orders (
      id INT PRIMARY KEY AUTO_INCREMENT,
      customer_id INT NOT NULL,
      total DECIMAL(10,2) NOT NULL,
      CONSTRAINT fk_orders_customer FOREIGN KEY (customer_id) REFERENCES customers (id)
    ) ENGINE=InnoDB;
    INSERT INTO orders (customer_id, total) SELECT id, id % 97 + 0.5 FROM customers WHERE id % 3 = 0;
    CREATE TABLE audit_log (id INT PRIMARY KEY AUTO_INCREMENT, customer_id INT NOT NULL, action VARCHAR(20) NOT NULL) ENGINE=InnoDB;
    CREATE VIEW customer_totals AS SELECT c.id, c.name, SUM(o.total) AS spent FROM customers c JOIN orders o ON o.customer_id = c.id GROUP BY c.id, c.name;
    CREATE FUNCTION discounted(price DECIMAL(10,2)) RETURNS DECIMAL(10,2) DETERMINISTIC RETURN price * 0.9;
    CREATE PROCEDURE add_customer(IN customer_name VARCHAR(100)) MODIFIES SQL DATA INSERT INTO customers (name) VALUES (customer_name);
    CREATE TRIGGER customers_audit AFTER INSERT ON customers FOR EACH ROW INSERT INTO audit_log (customer_id, action) VALUES (NEW.id, 'insert');
    CREATE EVENT nightly_cleanup ON SCHEDULE EVERY 1 DAY DISABLE DO DELETE FROM audit_log WHERE action = 'expired';
  `);
}

/** Tables of the shop database, for comparisons. */
export const SHOP_TABLES = ['digits', 'customers', 'orders', 'audit_log'] as const;

/**
 * Row count and an MD5 over every column of every row, in primary key order: equal checksums
 * mean equal contents, byte for byte (each value is hexed, so NULL, '' and binary differ).
 */
export async function tableChecksum(database: string, table: string): Promise<string> {
  const columns = (await mysqlQuery(`SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = '${database}' AND TABLE_NAME = '${table}' ORDER BY ORDINAL_POSITION`)).split('\n');
  const row = `CONCAT_WS(',', ${columns.map((column) => `IFNULL(HEX(CAST(${quoteIdentifier(column)} AS BINARY)), 'NULL')`).join(', ')})`;
  const key = columns.includes('id') ? 'id' : columns[0];
  return mysqlQuery(
    `SET SESSION group_concat_max_len = 1073741824;
     SELECT COUNT(*), MD5(GROUP_CONCAT(${row} ORDER BY ${quoteIdentifier(key)} SEPARATOR ';')) FROM ${quoteIdentifier(database)}.${quoteIdentifier(table)};`,
  );
}

/** The routines, triggers, views and events of a database, by name: "FUNCTION discounted", … */
export async function schemaObjects(database: string): Promise<string[]> {
  const rows = await mysqlQuery(`
    SELECT CONCAT(ROUTINE_TYPE, ' ', ROUTINE_NAME) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = '${database}'
    UNION ALL SELECT CONCAT('TRIGGER ', TRIGGER_NAME) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = '${database}'
    UNION ALL SELECT CONCAT('VIEW ', TABLE_NAME) FROM information_schema.VIEWS WHERE TABLE_SCHEMA = '${database}'
    UNION ALL SELECT CONCAT('EVENT ', EVENT_NAME, ' ', STATUS) FROM information_schema.EVENTS WHERE EVENT_SCHEMA = '${database}'`);
  return rows.split('\n').filter((line) => line !== '').sort();
}
