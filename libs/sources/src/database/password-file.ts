import { readFileSync } from 'node:fs';
import { SourceError } from './database-source';

/**
 * Reads a password from a file — a repository's or a database's, on the CLI's host or an
 * agent's. One trailing newline (as `echo` leaves) is not part of the password. `source`
 * names where the file was given ("--password-file", "passwordFile") for the message; the
 * file's content never appears in one.
 */
export function readPasswordFile(file: string, source: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : (err as Error).message;
    throw new SourceError(`cannot read the password file ${file} (from ${source}): ${why}`);
  }
  const password = text.replace(/\r?\n$/, '');
  if (password === '') throw new SourceError(`the password from the password file ${file} is empty: an empty password would not protect anything`);
  return password;
}
