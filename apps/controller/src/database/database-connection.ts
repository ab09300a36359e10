/**
 * The PostgreSQL the controller's TypeORM connects to: the operator's DATABASE_URL or the
 * embedded one. `close` releases what start-up opened (nothing for an external server).
 */
export interface DatabaseConnection {
  /**
   * Where TypeORM connects: a URL (which may hold a password: never log it, see
   * describeDatabaseUrl), or a unix socket (its directory and port, as libpq names them).
   */
  target: { url: string } | { socketDir: string; port: number; username: string; database: string };
  /** Connections TypeORM may open at once. */
  poolSize: number;
  /** True for the embedded database in the data directory. */
  embedded: boolean;
  close(): Promise<void>;
}

/** `postgres://host:port/database`: where the database is, with no user name or password. */
export function describeDatabaseUrl(url: string): string {
  try {
    const parsed = new URL(url);
    const host = parsed.hostname || parsed.searchParams.get('host') || 'localhost';
    const port = parsed.port || '5432';
    return `${parsed.protocol}//${host}:${port}${parsed.pathname === '/' ? '' : parsed.pathname}`;
  } catch {
    return 'the configured DATABASE_URL';
  }
}
