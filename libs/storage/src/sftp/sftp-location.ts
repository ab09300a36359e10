import * as path from 'node:path';
import { StorageError } from '../storage';

/** Where an sftp: location points: who logs in where, and the repository's directory there. */
export interface SftpTarget {
  user: string;
  /** A host name or IP address; IPv6 without brackets. */
  host: string;
  port: number;
  /** Absolute, normalised, no trailing "/" (except for "/" itself). */
  root: string;
  /** `sftp:USER@HOST[:PORT]/PATH`, for messages: it never holds a secret. */
  display: string;
}

/** The forms accepted, quoted in every refusal so the fix is obvious. */
const SYNTAX = 'expected sftp:USER@HOST[:PORT]/ABSOLUTE/PATH or sftp://USER@HOST[:PORT]/ABSOLUTE/PATH';

const DEFAULT_SSH_PORT = 22;

/**
 * USER@HOST[:PORT] then the path. HOST is a name, an IPv4 address or a bracketed IPv6
 * address; an empty port (`host:/srv`, as scp users write it) means 22. The user part
 * takes anything but "@" and "/" so that a password after ":" is caught and refused
 * rather than mistaken for a host.
 */
const SFTP_LOCATION = /^sftp:(\/\/)?([^@/]*)@(\[[0-9a-fA-F:.]+\]|[a-zA-Z0-9._-]+)(?::(\d*))?(\/.*)?$/i;

/**
 * Parses `sftp:USER@HOST[:PORT]/PATH` (or `sftp://…`), refusing with a permanent
 * StorageError what cannot work: no user, a password (keys only; see sftp-settings.ts),
 * a relative or missing path, a bad port. In the `sftp://` form, %-escapes are decoded
 * as in any URL.
 */
export function parseSftpLocation(location: string): SftpTarget {
  const match = SFTP_LOCATION.exec(location);
  if (match === null) {
    throw refusal(location, location.includes('@') ? SYNTAX : `it names no user (${SYNTAX})`);
  }
  const [, slashes, rawUser, bracketedHost, portText, rawPath] = match;
  const isUrl = slashes !== undefined;
  if (rawUser.includes(':')) {
    throw refusal(
      location,
      'it holds a password, which sftp: locations never take: Coffer logs in with a key ' +
        '(set COFFER_SFTP_KEY_FILE or COFFER_SFTP_KEY) and the password must not be kept in configuration',
    );
  }
  const user = isUrl ? decode(location, rawUser) : rawUser;
  if (user === '') throw refusal(location, `it names no user (${SYNTAX})`);
  const port = portText === undefined || portText === '' ? DEFAULT_SSH_PORT : Number(portText);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw refusal(location, `port ${portText} is not 1-65535`);
  if (rawPath === undefined) throw refusal(location, `it names no directory (${SYNTAX})`);
  const absolute = isUrl ? decode(location, rawPath) : rawPath;
  if (absolute.includes('\0')) throw refusal(location, 'its path contains a NUL byte');
  const root = path.posix.normalize(absolute).replace(/(.)\/$/, '$1');
  const host = bracketedHost.startsWith('[') ? bracketedHost.slice(1, -1) : bracketedHost;
  return { user, host, port, root, display: `sftp:${user}@${formatHost(host, port)}${root}` };
}

/** `host`, `host:2222`, `[::1]:2222`: the host as messages and locations write it. */
export function formatHost(host: string, port: number): string {
  const bracketed = host.includes(':') ? `[${host}]` : host;
  return port === DEFAULT_SSH_PORT ? bracketed : `${bracketed}:${port}`;
}

/** The location with a password (between the user's ":" and the "@") masked, for messages. */
function maskPassword(location: string): string {
  return location.replace(/^(sftp:(?:\/\/)?[^@/:]*):[^@/]*@/i, '$1:***@');
}

function decode(location: string, text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw refusal(location, `it has a malformed %-escape (${SYNTAX})`);
  }
}

function refusal(location: string, reason: string): StorageError {
  return new StorageError(`storage "${maskPassword(location)}" is not a usable sftp: location: ${reason}`, true);
}
