import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  KeyObject,
  randomFillSync,
} from 'node:crypto';

/**
 * The two encryption envelopes of the repository format (docs/repository-format.md):
 *
 * - "meta" objects (config, index, key metadata, locks) are AES-256-GCM under the
 *   repository's metaKey, which every key — write-only keys too — holds:
 *     [0x01][nonce 12][ciphertext][tag 16]
 * - "sealed" objects (snapshots; pack contents use the same derivation per pack) are
 *   AES-256-GCM under a key derived from an X25519 exchange between a fresh ephemeral key
 *   and the repository's public key. Writing needs only the public key; reading needs the
 *   private key, which write-only keys do not hold:
 *     [0x02][ephemeral public key 32][nonce 12][ciphertext][tag 16]
 */

export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;
export const KEY_BYTES = 32;
export const X25519_PUBLIC_BYTES = 32;
const META_ENVELOPE = 0x01;
const SEALED_ENVELOPE = 0x02;

/** Raised when an object fails authentication: corrupted, truncated, or made with another key. */
export class IntegrityError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IntegrityError';
  }
}

/** Random bytes drawn in bulk: one CSPRNG call per 341 nonces instead of one per blob (measured ~1.7 µs each). */
const noncePool = Buffer.alloc(NONCE_BYTES * 341);
let noncePoolUsed = noncePool.length;

/**
 * A fresh random nonce, never handed out twice: a view into the pool, valid until the next
 * call (seal and sealInto use it synchronously; createCipheriv copies it).
 */
function nextNonce(): Buffer {
  if (noncePoolUsed === noncePool.length) {
    randomFillSync(noncePool);
    noncePoolUsed = 0;
  }
  noncePoolUsed += NONCE_BYTES;
  return noncePool.subarray(noncePoolUsed - NONCE_BYTES, noncePoolUsed);
}

/** AES-256-GCM encrypt `parts` (concatenated) with `aad`; returns nonce|ciphertext|tag. */
export function seal(key: Uint8Array, parts: readonly Uint8Array[], aad?: Uint8Array): Buffer {
  const nonce = Buffer.from(nextNonce());
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  if (aad) cipher.setAAD(aad);
  const out: Buffer[] = [nonce];
  for (const part of parts) out.push(cipher.update(part));
  out.push(cipher.final(), cipher.getAuthTag());
  return Buffer.concat(out);
}

/**
 * seal() written straight into `dest` at `offset` (which must have room for the plaintext
 * plus NONCE_BYTES + TAG_BYTES); returns the bytes written. Saves a copy on the hot path.
 */
export function sealInto(dest: Buffer, offset: number, key: Uint8Array, parts: readonly Uint8Array[], aad?: Uint8Array): number {
  const nonce = nextNonce();
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  if (aad) cipher.setAAD(aad);
  let at = offset + nonce.copy(dest, offset);
  for (const part of parts) at += cipher.update(part).copy(dest, at);
  at += cipher.final().copy(dest, at);
  at += cipher.getAuthTag().copy(dest, at);
  return at - offset;
}

/** Inverse of seal(); throws IntegrityError when the tag does not verify. */
export function open(key: Uint8Array, box: Uint8Array, aad?: Uint8Array, what = 'object'): Buffer {
  if (box.length < NONCE_BYTES + TAG_BYTES) {
    throw new IntegrityError(`${what} is truncated (${box.length} bytes)`);
  }
  const buf = Buffer.from(box.buffer, box.byteOffset, box.byteLength);
  const decipher = createDecipheriv('aes-256-gcm', key, buf.subarray(0, NONCE_BYTES));
  if (aad) decipher.setAAD(aad);
  decipher.setAuthTag(buf.subarray(buf.length - TAG_BYTES));
  try {
    const plaintext = decipher.update(buf.subarray(NONCE_BYTES, buf.length - TAG_BYTES));
    // GCM is a stream mode: final() only checks the tag and returns no bytes, so the
    // plaintext is returned as it is rather than copied by a concat.
    const rest = decipher.final();
    return rest.length === 0 ? plaintext : Buffer.concat([plaintext, rest]);
  } catch {
    throw new IntegrityError(`${what} failed authentication (corrupted, or written with another key)`);
  }
}

/** Encrypts a meta object under the repository metaKey. */
export function sealMeta(metaKey: Uint8Array, plaintext: Uint8Array, context: string): Buffer {
  return Buffer.concat([Buffer.of(META_ENVELOPE), seal(metaKey, [plaintext], Buffer.from(context))]);
}

/** Decrypts a meta object; `context` must match the one it was sealed with. */
export function openMeta(metaKey: Uint8Array, stored: Uint8Array, context: string, what: string): Buffer {
  if (stored.length < 1 || stored[0] !== META_ENVELOPE) throw new IntegrityError(`${what} is not a meta object`);
  return open(metaKey, stored.subarray(1), Buffer.from(context), what);
}

/** A repository's X25519 key pair; `privateKey` is absent for write-only keys. */
export interface ReadKeyPair {
  publicKey: Buffer;
  privateKey?: Buffer;
}

/** Makes a fresh X25519 key pair, as raw 32-byte keys. */
export function generateX25519(): { publicKey: Buffer; privateKey: Buffer } {
  const pair = generateKeyPairSync('x25519');
  return {
    publicKey: rawPublic(pair.publicKey),
    privateKey: Buffer.from(pair.privateKey.export({ format: 'jwk' }).d!, 'base64url'),
  };
}

function rawPublic(key: KeyObject): Buffer {
  return Buffer.from(key.export({ format: 'jwk' }).x!, 'base64url');
}

function privateKeyObject(raw: Uint8Array): KeyObject {
  const pub = rawPublic(createPublicKey(createPrivateKey({ key: { kty: 'OKP', crv: 'X25519', d: b64u(raw), x: '' }, format: 'jwk' })));
  return createPrivateKey({ key: { kty: 'OKP', crv: 'X25519', d: b64u(raw), x: b64u(pub) }, format: 'jwk' });
}

function publicKeyObject(raw: Uint8Array): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: b64u(raw) }, format: 'jwk' });
}

function b64u(raw: Uint8Array): string {
  return Buffer.from(raw).toString('base64url');
}

/** Public half of a raw X25519 private key. */
export function x25519PublicFromPrivate(privateKey: Uint8Array): Buffer {
  return rawPublic(createPublicKey(privateKeyObject(privateKey)));
}

function deriveSharedKey(shared: Buffer, ephemeralPublic: Uint8Array, recipientPublic: Uint8Array, info: string): Buffer {
  return Buffer.from(hkdfSync('sha256', shared, Buffer.concat([ephemeralPublic, recipientPublic]), info, KEY_BYTES));
}

/**
 * Starts a sealing session: a fresh ephemeral key and the AES key it shares with the
 * repository's public key. Writers use one session for many packs; readers re-derive the
 * key from the ephemeral public key stored beside the data.
 */
export function newSealingSession(recipientPublic: Uint8Array, info: string): { ephemeralPublic: Buffer; key: Buffer } {
  const eph = generateKeyPairSync('x25519');
  const shared = diffieHellman({ privateKey: eph.privateKey, publicKey: publicKeyObject(recipientPublic) });
  const ephemeralPublic = rawPublic(eph.publicKey);
  return { ephemeralPublic, key: deriveSharedKey(shared, ephemeralPublic, recipientPublic, info) };
}

/** The reader's side of newSealingSession(). */
export function openSealingSession(privateKey: Uint8Array, recipientPublic: Uint8Array, ephemeralPublic: Uint8Array, info: string): Buffer {
  const shared = diffieHellman({ privateKey: privateKeyObject(privateKey), publicKey: publicKeyObject(ephemeralPublic) });
  return deriveSharedKey(shared, ephemeralPublic, recipientPublic, info);
}

const SEALED_INFO = 'coffer sealed object v1';

/** Encrypts a whole object to the repository public key (snapshots). */
export function sealToPublic(recipientPublic: Uint8Array, plaintext: Uint8Array, context: string): Buffer {
  const session = newSealingSession(recipientPublic, SEALED_INFO);
  return Buffer.concat([Buffer.of(SEALED_ENVELOPE), session.ephemeralPublic, seal(session.key, [plaintext], Buffer.from(context))]);
}

/** Decrypts an object made by sealToPublic(); needs the private key. */
export function openSealed(keys: ReadKeyPair, stored: Uint8Array, context: string, what: string): Buffer {
  if (!keys.privateKey) throw new WriteOnlyKeyError();
  if (stored.length < 1 + X25519_PUBLIC_BYTES || stored[0] !== SEALED_ENVELOPE) throw new IntegrityError(`${what} is not a sealed object`);
  const ephemeralPublic = stored.subarray(1, 1 + X25519_PUBLIC_BYTES);
  const key = openSealingSession(keys.privateKey, keys.publicKey, ephemeralPublic, SEALED_INFO);
  return open(key, stored.subarray(1 + X25519_PUBLIC_BYTES), Buffer.from(context), what);
}

/** The key in use can add data but not read what is stored. */
export class WriteOnlyKeyError extends Error {
  constructor() {
    super('this key can write but not read: use a full key to list, restore or verify data');
    this.name = 'WriteOnlyKeyError';
  }
}

/** Keyed content id: HMAC-SHA256 under the repository idKey, so storage cannot confirm guesses. */
export function contentId(idKey: Uint8Array, data: Uint8Array): Buffer {
  return createHmac('sha256', idKey).update(data).digest();
}
