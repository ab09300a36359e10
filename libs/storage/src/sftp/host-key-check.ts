import { createHash, createHmac } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { formatHost } from './sftp-location';
import type { SftpTarget } from './sftp-location';
import type { HostKeyPinning } from './sftp-settings';

/** Decides about the host key a server offers; built before connecting, consulted during the handshake. */
export interface HostKeyCheck {
  /**
   * Host key algorithms to ask for first: those of the keys known_hosts holds for this
   * host, so a server with several keys offers one we can check (as OpenSSH's client does).
   */
  preferredAlgorithms: string[];
  /** Undefined when `keyBlob` (the SSH wire encoding of the key) is accepted; else why not, with how to fix it. */
  refusal(keyBlob: Buffer): string | undefined;
}

/** One usable line of a known_hosts file. */
interface KnownHostEntry {
  line: number;
  revoked: boolean;
  hostPatterns: string;
  keyType: string;
  keyBlob: Buffer;
}

/** Algorithms ssh2 can negotiate for each known_hosts key type; other types (certificates, FIDO keys) are not preferred. */
const ALGORITHMS_BY_KEY_TYPE: ReadonlyMap<string, string[]> = new Map([
  ['ssh-ed25519', ['ssh-ed25519']],
  ['ecdsa-sha2-nistp256', ['ecdsa-sha2-nistp256']],
  ['ecdsa-sha2-nistp384', ['ecdsa-sha2-nistp384']],
  ['ecdsa-sha2-nistp521', ['ecdsa-sha2-nistp521']],
  ['ssh-rsa', ['rsa-sha2-512', 'rsa-sha2-256']],
]);

/**
 * Builds the check for `target` from COFFER_SFTP_HOST_KEY fingerprints or a known_hosts
 * file (read now; a missing file knows no host). Never accepts an unknown key: there is
 * no "trust on first use", since a backup written to an impostor is a leak.
 */
export async function prepareHostKeyCheck(pinning: HostKeyPinning, target: SftpTarget): Promise<HostKeyCheck> {
  if (pinning.kind === 'fingerprints') {
    return {
      preferredAlgorithms: [],
      refusal: (keyBlob) => {
        const offered = sha256Fingerprint(keyBlob);
        if (pinning.fingerprints.includes(offered)) return undefined;
        const pinned = pinning.fingerprints.join(', ');
        return `${offeredKey(target, keyBlob)}, which is not the key COFFER_SFTP_HOST_KEY pins (${pinned}). ${howToPin(target, keyBlob)}`;
      },
    };
  }
  const { entries, missing } = await readKnownHosts(pinning.file);
  const name = knownHostsName(target);
  const valid = entries.filter((e) => !e.revoked && hostMatches(e.hostPatterns, name));
  return {
    preferredAlgorithms: [...new Set(valid.flatMap((e) => ALGORITHMS_BY_KEY_TYPE.get(e.keyType) ?? []))],
    refusal: (keyBlob) => {
      // A revoked key is refused whatever host its line names: stricter than needed, never looser.
      const revoked = entries.find((e) => e.revoked && e.keyBlob.equals(keyBlob));
      if (revoked !== undefined) {
        return `${offeredKey(target, keyBlob)}, which ${pinning.file} line ${revoked.line} marks @revoked: this key must not be trusted`;
      }
      if (valid.some((e) => e.keyBlob.equals(keyBlob))) return undefined;
      const sameType = valid.find((e) => e.keyType === keyTypeOf(keyBlob));
      if (sameType !== undefined) {
        return (
          `${offeredKey(target, keyBlob)}, but ${pinning.file} line ${sameType.line} holds a different ${sameType.keyType} key ` +
          `(${sha256Fingerprint(sameType.keyBlob)}) for ${name}. THE HOST KEY HAS CHANGED: the server was reinstalled, or ` +
          `someone is intercepting the connection. Find out which before trusting it. ${howToPin(target, keyBlob)}`
        );
      }
      const where = missing ? `${pinning.file} does not exist` : `${pinning.file} has no ${keyTypeOf(keyBlob)} key for ${name}`;
      return `${offeredKey(target, keyBlob)}, which is unknown: ${where}. ${howToPin(target, keyBlob)}`;
    },
  };
}

/** `SHA256:<unpadded base64>`, exactly as `ssh-keygen -lf` prints it. */
export function sha256Fingerprint(keyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;
}

/** The algorithm name a key blob starts with (`ssh-ed25519`, `ssh-rsa`, …). */
function keyTypeOf(keyBlob: Buffer): string {
  if (keyBlob.length < 4) return 'unknown';
  const length = keyBlob.readUInt32BE(0);
  return keyBlob.subarray(4, 4 + length).toString('latin1');
}

/** How known_hosts names a host: `host` on port 22, `[host]:port` elsewhere. */
function knownHostsName(target: SftpTarget): string {
  const host = target.host.toLowerCase();
  return target.port === 22 ? host : `[${host}]:${target.port}`;
}

function offeredKey(target: SftpTarget, keyBlob: Buffer): string {
  return `${formatHost(target.host, target.port)} offered the ${keyTypeOf(keyBlob)} host key ${sha256Fingerprint(keyBlob)}`;
}

/** What to do about a refused key: check the fingerprint out of band, then pin it either way. */
function howToPin(target: SftpTarget, keyBlob: Buffer): string {
  const portOption = target.port === 22 ? '' : `-p ${target.port} `;
  // OpenSSH's file names: ssh_host_ed25519_key, ssh_host_ecdsa_key, ssh_host_rsa_key.
  const keyFile = `/etc/ssh/ssh_host_${keyTypeOf(keyBlob).replace(/^ssh-/, '').replace(/-.*/, '')}_key.pub`;
  return (
    `If that fingerprint is right (on the server: ssh-keygen -lf ${keyFile}), pin it with ` +
    `COFFER_SFTP_HOST_KEY=${sha256Fingerprint(keyBlob)}, or add the key to known_hosts with: ` +
    `ssh-keyscan ${portOption}${target.host} >> ~/.ssh/known_hosts`
  );
}

/** Parses a known_hosts file; `missing` when it does not exist, which makes every host unknown. */
async function readKnownHosts(file: string): Promise<{ entries: KnownHostEntry[]; missing: boolean }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ENOENT') return { entries: [], missing: true };
    throw err;
  }
  const entries: KnownHostEntry[] = [];
  text.split('\n').forEach((rawLine, index) => {
    const fields = rawLine.trim().split(/\s+/);
    if (fields[0] === '' || fields[0].startsWith('#')) return;
    const marker = fields[0].startsWith('@') ? fields.shift() : undefined;
    // Certificate authorities would need certificate checking, which this driver does not do.
    if (marker !== undefined && marker !== '@revoked') return;
    const [hostPatterns, keyType, keyBase64] = fields;
    if (keyBase64 === undefined) return;
    entries.push({ line: index + 1, revoked: marker === '@revoked', hostPatterns, keyType, keyBlob: Buffer.from(keyBase64, 'base64') });
  });
  return { entries, missing: false };
}

/**
 * OpenSSH's host matching: a hashed entry (`|1|salt|hmac`, from `ssh-keygen -H` or
 * HashKnownHosts) or a comma-separated list of patterns with `*` and `?`, where a
 * matching `!pattern` excludes the host whatever else matches.
 */
function hostMatches(patterns: string, name: string): boolean {
  if (patterns.startsWith('|1|')) {
    const [salt, hash] = patterns.slice(3).split('|');
    if (hash === undefined) return false;
    const expected = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest();
    return expected.equals(Buffer.from(hash, 'base64'));
  }
  let matched = false;
  for (const pattern of patterns.toLowerCase().split(',')) {
    const negated = pattern.startsWith('!');
    if (!globMatches(negated ? pattern.slice(1) : pattern, name)) continue;
    if (negated) return false;
    matched = true;
  }
  return matched;
}

function globMatches(glob: string, name: string): boolean {
  const source = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${source}$`).test(name);
}
