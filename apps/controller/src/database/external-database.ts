import { Client } from 'pg';
import { DatabaseConnection, describeDatabaseUrl } from './database-connection';
import { StartupError } from '../boot/startup-error';

/** Pool size against a real PostgreSQL server. */
const EXTERNAL_POOL_SIZE = 10;
const CONNECT_TIMEOUT_MS = 10_000;

/**
 * Checks that DATABASE_URL answers before anything else is built on it, so an operator
 * gets one line naming the server (never its password) instead of a stack of retries.
 */
export async function connectToExternalDatabase(url: string): Promise<DatabaseConnection> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  client.on('error', () => undefined); // a failed probe must not become an unhandled 'error' event
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (err) {
    throw new StartupError(`cannot connect to the database at ${describeDatabaseUrl(url)}: ${connectionFailureReason(err, url)}`);
  } finally {
    await client.end().catch(() => undefined);
  }
  return { target: { url }, poolSize: EXTERNAL_POOL_SIZE, embedded: false, close: async () => undefined };
}

/** Why a connection failed, in a few words, without anything from the URL's credentials. */
export function connectionFailureReason(err: unknown, url: string): string {
  const error = err as NodeJS.ErrnoException & { code?: string };
  switch (error.code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host not found';
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'host unreachable';
    case 'ECONNRESET':
      return 'connection reset by the server';
    case '28P01':
    case '28000':
      return 'authentication failed (check the user and password in DATABASE_URL)';
    case '3D000':
      return 'the database does not exist (create it first)';
  }
  const message = error.message ?? String(err);
  if (/timeout/i.test(message)) return `no answer within ${CONNECT_TIMEOUT_MS / 1000}s`;
  return scrubPassword(message, url);
}

/** Removes the URL's password from a driver message, should one ever quote it. */
function scrubPassword(message: string, url: string): string {
  let password = '';
  try {
    password = decodeURIComponent(new URL(url).password);
  } catch {
    // not a URL: nothing to scrub
  }
  return password === '' ? message : message.split(password).join('***');
}
