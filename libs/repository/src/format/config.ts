import { IntegrityError, openMeta, sealMeta } from '../crypto/envelope';
import type { ChunkerParams } from '../chunker/chunker';

/** The repository's `config` object: how every writer must cut, compress and seal. */
export interface RepositoryConfig {
  /** Format version; readers refuse versions they do not know. */
  version: 1;
  id: string;
  chunker: ChunkerParams;
  /** base64 of the 32-byte seed of the chunker's gear table (per repository). */
  gearSeed: string;
  /** Packs are closed once they reach this many bytes. */
  packSize: number;
  compression: { algorithm: 'zstd'; level: number };
  created: string;
}

/** The 4 plaintext bytes every config starts with: "CFR" and the format version. */
export const CONFIG_MAGIC = Buffer.from([0x43, 0x46, 0x52, 0x01]);

/** Serializes and encrypts the config. */
export function encodeConfig(config: RepositoryConfig, metaKey: Buffer): Buffer {
  return Buffer.concat([CONFIG_MAGIC, sealMeta(metaKey, Buffer.from(JSON.stringify(config)), 'config')]);
}

/** True when the stored bytes start like a Coffer config (no key needed). */
export function looksLikeConfig(stored: Buffer): boolean {
  return stored.length > CONFIG_MAGIC.length && stored.subarray(0, 3).equals(CONFIG_MAGIC.subarray(0, 3));
}

/** Decrypts and checks the config. */
export function decodeConfig(stored: Buffer, metaKey: Buffer): RepositoryConfig {
  if (!looksLikeConfig(stored)) throw new IntegrityError('config is not a Coffer repository config');
  if (stored[3] !== CONFIG_MAGIC[3]) throw new IntegrityError(`repository format version ${stored[3]} is not supported by this Coffer (knows version 1)`);
  const config = JSON.parse(openMeta(metaKey, stored.subarray(4), 'config', 'config').toString('utf8')) as RepositoryConfig;
  if (config.version !== 1) throw new IntegrityError(`repository format version ${config.version} is not supported`);
  return config;
}
