import * as path from 'node:path';
import { StorageError } from '../storage';

/** Where the private key to log in with comes from. */
export type PrivateKeySource =
  /** COFFER_SFTP_KEY: the key itself, as an agent receives it in a job. */
  | { kind: 'inline'; text: string }
  /** COFFER_SFTP_KEY_FILE, or else the first of ~/.ssh/id_ed25519 and ~/.ssh/id_rsa that exists. */
  | { kind: 'file'; candidates: string[] };

/** How the server's host key is checked; there is no way to accept an unknown key. */
export type HostKeyPinning =
  /** COFFER_SFTP_HOST_KEY: SHA256 fingerprints (unpadded base64, as ssh-keygen -lf prints them). */
  | { kind: 'fingerprints'; fingerprints: string[] }
  /** COFFER_SFTP_KNOWN_HOSTS, or else ~/.ssh/known_hosts. */
  | { kind: 'known-hosts'; file: string; explicit: boolean };

/** The COFFER_SFTP_* settings, checked once when the storage is opened. */
export interface SftpSettings {
  privateKey: PrivateKeySource;
  passphrase?: string;
  hostKey: HostKeyPinning;
}

/** `SHA256:` and 43 base64 digits (32 bytes), padding optional: ssh-keygen leaves it off. */
const SHA256_FINGERPRINT = /SHA256:([A-Za-z0-9+/]{43})=?/g;

/**
 * Reads the COFFER_SFTP_* variables from `env` (a job's own variables on an agent, so never
 * process.env here). Does no I/O: key and known_hosts files are read on first connect.
 * Every problem is reported at once, naming its variable, in one permanent StorageError.
 */
export function readSftpSettings(env: NodeJS.ProcessEnv, location: string): SftpSettings {
  const problems: string[] = [];
  const home = nonEmpty(env.HOME);
  const inHome = (...segments: string[]): string | undefined => (home === undefined ? undefined : path.join(home, ...segments));
  const expandHome = (file: string): string => (file.startsWith('~/') && home !== undefined ? path.join(home, file.slice(2)) : file);

  const inlineKey = nonEmpty(env.COFFER_SFTP_KEY);
  const keyFile = nonEmpty(env.COFFER_SFTP_KEY_FILE);
  let privateKey: PrivateKeySource = { kind: 'file', candidates: [] };
  if (inlineKey !== undefined && keyFile !== undefined) {
    problems.push('COFFER_SFTP_KEY and COFFER_SFTP_KEY_FILE are both set; set only one');
  } else if (inlineKey !== undefined) {
    privateKey = { kind: 'inline', text: unescapeNewlines(inlineKey) };
  } else if (keyFile !== undefined) {
    privateKey = { kind: 'file', candidates: [expandHome(keyFile)] };
  } else if (home !== undefined) {
    privateKey = { kind: 'file', candidates: [inHome('.ssh', 'id_ed25519')!, inHome('.ssh', 'id_rsa')!] };
  } else {
    problems.push('no private key: set COFFER_SFTP_KEY_FILE or COFFER_SFTP_KEY (HOME is not set, so there is no ~/.ssh/id_ed25519)');
  }

  let hostKey: HostKeyPinning = { kind: 'fingerprints', fingerprints: [] };
  const pinned = nonEmpty(env.COFFER_SFTP_HOST_KEY);
  const knownHosts = nonEmpty(env.COFFER_SFTP_KNOWN_HOSTS);
  if (pinned !== undefined) {
    const fingerprints = [...pinned.matchAll(SHA256_FINGERPRINT)].map((m) => `SHA256:${m[1]}`);
    if (fingerprints.length === 0) {
      problems.push(
        `COFFER_SFTP_HOST_KEY holds no SHA256:… fingerprint${pinned.includes('MD5:') ? ' (MD5 fingerprints are not accepted)' : ''}; ` +
          'get it with: ssh-keyscan -p PORT HOST | ssh-keygen -lf -',
      );
    }
    hostKey = { kind: 'fingerprints', fingerprints };
  } else if (knownHosts !== undefined) {
    hostKey = { kind: 'known-hosts', file: expandHome(knownHosts), explicit: true };
  } else if (home !== undefined) {
    hostKey = { kind: 'known-hosts', file: inHome('.ssh', 'known_hosts')!, explicit: false };
  } else {
    problems.push(
      'no way to check the server: set COFFER_SFTP_HOST_KEY or COFFER_SFTP_KNOWN_HOSTS (HOME is not set, so there is no ~/.ssh/known_hosts)',
    );
  }

  if (problems.length > 0) {
    throw new StorageError(`cannot use ${location}: ${problems.join('; ')}`, true);
  }
  return { privateKey, passphrase: nonEmpty(env.COFFER_SFTP_KEY_PASSPHRASE), hostKey };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}

/**
 * Job systems and .env files often cannot hold a multi-line value, so a key arrives with
 * its line breaks written as `\n`; a key with real line breaks is left alone.
 */
function unescapeNewlines(key: string): string {
  return key.includes('\n') ? key : key.replace(/\\n/g, '\n');
}
