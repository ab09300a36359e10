import { randomBytes, scryptSync } from 'node:crypto';
import { IntegrityError, open, seal, openMeta, sealMeta } from '../crypto/envelope';

/**
 * A key file (`keys/<id>`) wraps the repository's master keys with a key derived from one
 * password. The only plaintext is the KDF's name, parameters and salt: everything about the
 * key holder (host, user, time, kind) is in `meta`, readable with the repository's metaKey.
 */
export interface KeyFileJson {
  version: 1;
  kdf: { name: 'scrypt'; N: number; r: number; p: number; salt: string };
  /** base64(seal(KEK, masterKeysJson, aad = "coffer key v1")) */
  data: string;
  /** base64(sealMeta(metaKey, KeyMetadata, "key-meta")) */
  meta: string;
}

/** The secrets a key unlocks. A write-only key lacks `readPrivateKey`. */
export interface MasterKeys {
  repositoryId: string;
  /** HMAC-SHA256 key naming every blob by its plaintext. */
  idKey: Buffer;
  /** AES-256-GCM key of config, index, key metadata and locks. */
  metaKey: Buffer;
  /** X25519 public key every pack and snapshot is sealed to. */
  readPublicKey: Buffer;
  /** X25519 private key that opens packs and snapshots; absent for write-only keys. */
  readPrivateKey?: Buffer;
}

/** Who made a key and what it may do: shown by `key list`. */
export interface KeyMetadata {
  created: string;
  host: string;
  username: string;
  writeOnly: boolean;
}

/** Parameters of the password KDF. N=2^15, r=8 takes about 0.1 s and 32 MiB. */
export const DEFAULT_SCRYPT = { N: 1 << 15, r: 8, p: 1 };
const KEY_AAD = Buffer.from('coffer key v1');

function deriveKek(password: string, kdf: KeyFileJson['kdf']): Buffer {
  return scryptSync(password.normalize('NFC'), Buffer.from(kdf.salt, 'base64'), 32, {
    N: kdf.N,
    r: kdf.r,
    p: kdf.p,
    maxmem: 256 * kdf.N * kdf.r + (1 << 20),
  });
}

/** Wraps `master` for `password`; `meta` goes in readable by every key holder. */
export function createKeyFile(password: string, master: MasterKeys, meta: KeyMetadata, scrypt = DEFAULT_SCRYPT): Buffer {
  const kdf = { name: 'scrypt' as const, ...scrypt, salt: randomBytes(32).toString('base64') };
  const secrets = {
    repositoryId: master.repositoryId,
    idKey: master.idKey.toString('base64'),
    metaKey: master.metaKey.toString('base64'),
    readPublicKey: master.readPublicKey.toString('base64'),
    ...(master.readPrivateKey ? { readPrivateKey: master.readPrivateKey.toString('base64') } : {}),
  };
  const json: KeyFileJson = {
    version: 1,
    kdf,
    data: seal(deriveKek(password, kdf), [Buffer.from(JSON.stringify(secrets))], KEY_AAD).toString('base64'),
    meta: sealMeta(master.metaKey, Buffer.from(JSON.stringify(meta)), 'key-meta').toString('base64'),
  };
  return Buffer.from(JSON.stringify(json));
}

/** Parses a stored key file; throws IntegrityError when it is not one. */
export function parseKeyFile(stored: Buffer, name: string): KeyFileJson {
  let json: KeyFileJson;
  try {
    json = JSON.parse(stored.toString('utf8'));
  } catch {
    throw new IntegrityError(`key file ${name} is not valid JSON (corrupted)`);
  }
  const kdf = json?.kdf;
  if (json?.version !== 1 || kdf?.name !== 'scrypt' || !Number.isInteger(kdf.N) || !Number.isInteger(kdf.r) || !Number.isInteger(kdf.p) || typeof json.data !== 'string') {
    throw new IntegrityError(`key file ${name} has an unknown layout (corrupted, or made by a newer Coffer)`);
  }
  if (kdf.N > 1 << 22 || kdf.r > 64 || kdf.p > 16) throw new IntegrityError(`key file ${name} asks for unreasonable KDF parameters`);
  // Buffer.from(…, 'base64') skips stray characters: damage would pass for a wrong password.
  for (const [field, value] of [['salt', kdf.salt], ['data', json.data]] as const) {
    if (typeof value !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(value)) throw new IntegrityError(`key file ${name} is corrupted (its ${field} is not base64)`);
  }
  return json;
}

/** Unwraps the master keys, or returns undefined when the password is not this key's. */
export function unlockKeyFile(file: KeyFileJson, password: string, name: string): MasterKeys | undefined {
  let plain: Buffer;
  try {
    plain = open(deriveKek(password, file.kdf), Buffer.from(file.data, 'base64'), KEY_AAD, `key ${name}`);
  } catch (err) {
    if (err instanceof IntegrityError) return undefined;
    throw err;
  }
  const s = JSON.parse(plain.toString('utf8'));
  return {
    repositoryId: s.repositoryId,
    idKey: Buffer.from(s.idKey, 'base64'),
    metaKey: Buffer.from(s.metaKey, 'base64'),
    readPublicKey: Buffer.from(s.readPublicKey, 'base64'),
    readPrivateKey: s.readPrivateKey ? Buffer.from(s.readPrivateKey, 'base64') : undefined,
  };
}

/** Reads a key's metadata with the repository metaKey. */
export function readKeyMetadata(file: KeyFileJson, metaKey: Buffer, name: string): KeyMetadata {
  return JSON.parse(openMeta(metaKey, Buffer.from(file.meta, 'base64'), 'key-meta', `key ${name} metadata`).toString('utf8'));
}
