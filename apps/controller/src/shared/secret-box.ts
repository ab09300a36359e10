import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';

const FORMAT_VERSION = 1;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const HEADER_BYTES = 1 + NONCE_BYTES + TAG_BYTES;

/** A sealed secret that does not open: wrong master key, wrong context, or altered bytes. */
export class SecretBoxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretBoxError';
  }
}

/**
 * Encrypts secrets at rest with the master key: AES-256-GCM, a random 12-byte nonce per
 * seal, and `context` (e.g. the repository name) as associated data, so a sealed value
 * copied to another row does not open there.
 *
 * Layout: version (1 byte) | nonce (12) | tag (16) | ciphertext.
 */
@Injectable()
export class SecretBox {
  private readonly key: Buffer;

  constructor(config: AppConfig) {
    if (config.masterKey.length !== 32) throw new Error('the master key must be 32 bytes');
    this.key = config.masterKey;
  }

  seal(plaintext: Buffer, context: string): Buffer {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, nonce);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return Buffer.concat([Buffer.from([FORMAT_VERSION]), nonce, cipher.getAuthTag(), ciphertext]);
  }

  /** Throws SecretBoxError unless `sealed` was sealed with this key and `context`, unaltered. */
  open(sealed: Buffer, context: string): Buffer {
    if (sealed.length < HEADER_BYTES || sealed[0] !== FORMAT_VERSION) throw new SecretBoxError('not a sealed secret of a known format');
    const nonce = sealed.subarray(1, 1 + NONCE_BYTES);
    const tag = sealed.subarray(1 + NONCE_BYTES, HEADER_BYTES);
    const decipher = createDecipheriv('aes-256-gcm', this.key, nonce);
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(tag);
    try {
      return Buffer.concat([decipher.update(sealed.subarray(HEADER_BYTES)), decipher.final()]);
    } catch {
      throw new SecretBoxError('the secret does not open with this master key (wrong key, or the stored value was altered)');
    }
  }

  sealJson(value: unknown, context: string): Buffer {
    return this.seal(Buffer.from(JSON.stringify(value), 'utf8'), context);
  }

  openJson<T>(sealed: Buffer, context: string): T {
    return JSON.parse(this.open(sealed, context).toString('utf8')) as T;
  }
}
