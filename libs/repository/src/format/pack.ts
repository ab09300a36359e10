import { createHash } from 'node:crypto';
import { IntegrityError, open, seal, X25519_PUBLIC_BYTES } from '../crypto/envelope';

/**
 * Pack layout (docs/repository-format.md "Packs"):
 *   "CFP" 0x01 | ephemeral X25519 public key (32) | blob … blob | trailer | trailer length (u32 LE)
 * Each blob is nonce|AES-GCM(packKey, [compression byte][payload])|tag with the blob id as AAD.
 * The trailer is nonce|AES-GCM(packKey, entries)|tag, AAD "coffer pack trailer"; an entry is
 * type (u8) | id (32) | offset (u32) | stored length (u32) | raw length (u32).
 * A pack is named by the SHA-256 of its bytes, so storage-level damage is found without keys.
 */
export const PACK_MAGIC = Buffer.from([0x43, 0x46, 0x50, 0x01]);
export const PACK_HEADER_BYTES = PACK_MAGIC.length + X25519_PUBLIC_BYTES;
const ENTRY_BYTES = 45;
const TRAILER_AAD = Buffer.from('coffer pack trailer');

/** What a blob holds: file content, or a directory listing. */
export enum BlobType {
  Data = 0,
  Tree = 1,
}

/** Where a blob sits inside its pack. */
export interface PackEntry {
  type: BlobType;
  id: Buffer;
  offset: number;
  length: number;
  rawLength: number;
}

/**
 * Collects sealed blobs into one pack object. Blobs are copied into one buffer as they come,
 * so the (larger) buffers they arrived in are released at once and finishing needs no second
 * copy. Not thread-safe; one per writer.
 */
export class PackBuilder {
  private buffer: Buffer;
  readonly entries: PackEntry[] = [];
  private size = PACK_HEADER_BYTES;

  /**
   * `reuse`: the buffer of a pack whose bytes are no longer needed (uploaded), taken instead
   * of a new one if it holds `capacity`: a fresh pack-sized buffer per pack is garbage that
   * the allocator is slow to give back.
   */
  constructor(
    private readonly packKey: Buffer,
    readonly ephemeralPublic: Buffer,
    capacity = 1024 * 1024,
    reuse?: Buffer,
  ) {
    this.buffer = reuse && reuse.length >= capacity ? reuse : Buffer.allocUnsafe(Math.max(capacity, PACK_HEADER_BYTES));
    PACK_MAGIC.copy(this.buffer, 0);
    ephemeralPublic.copy(this.buffer, PACK_MAGIC.length);
  }

  /** Bytes so far. */
  get length(): number {
    return this.size;
  }

  /** Appends a sealed blob (as made by BlobSealer with this pack's key). */
  add(type: BlobType, id: Buffer, sealed: Uint8Array, rawLength: number): void {
    this.reserve(sealed.length);
    this.entries.push({ type, id, offset: this.size, length: sealed.length, rawLength });
    this.buffer.set(sealed, this.size);
    this.size += sealed.length;
  }

  /** The whole buffer, for the next builder to reuse once this pack's bytes are stored. */
  get backingBuffer(): Buffer {
    return this.buffer;
  }

  /** Closes the pack; returns its bytes and name (hex SHA-256). */
  finish(): { id: string; bytes: Buffer } {
    const table = Buffer.allocUnsafe(this.entries.length * ENTRY_BYTES);
    this.entries.forEach((e, i) => writeEntry(table, i * ENTRY_BYTES, e));
    const trailer = seal(this.packKey, [table], TRAILER_AAD);
    this.reserve(trailer.length + 4);
    trailer.copy(this.buffer, this.size);
    this.buffer.writeUInt32LE(trailer.length, this.size + trailer.length);
    const bytes = this.buffer.subarray(0, this.size + trailer.length + 4);
    return { id: createHash('sha256').update(bytes).digest('hex'), bytes };
  }

  private reserve(more: number): void {
    if (this.size + more <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.size + more, this.buffer.length * 2));
    this.buffer.copy(grown, 0, 0, this.size);
    this.buffer = grown;
  }
}

function writeEntry(buf: Buffer, at: number, e: PackEntry): void {
  buf.writeUInt8(e.type, at);
  e.id.copy(buf, at + 1);
  buf.writeUInt32LE(e.offset, at + 33);
  buf.writeUInt32LE(e.length, at + 37);
  buf.writeUInt32LE(e.rawLength, at + 41);
}

function readEntry(buf: Buffer, at: number): PackEntry {
  const type = buf.readUInt8(at);
  if (type !== BlobType.Data && type !== BlobType.Tree) throw new IntegrityError(`unknown blob type ${type}`);
  return {
    type,
    id: Buffer.from(buf.subarray(at + 1, at + 33)),
    offset: buf.readUInt32LE(at + 33),
    length: buf.readUInt32LE(at + 37),
    rawLength: buf.readUInt32LE(at + 41),
  };
}

/** The ephemeral public key of a whole pack's bytes. */
export function packEphemeralPublic(pack: Buffer, name: string): Buffer {
  if (pack.length < PACK_HEADER_BYTES + 4 || !pack.subarray(0, 4).equals(PACK_MAGIC)) {
    throw new IntegrityError(`pack ${name} has no valid header (corrupted or truncated)`);
  }
  return pack.subarray(4, PACK_HEADER_BYTES);
}

/** Reads a whole pack's entry table (needs the pack key). */
export function readPackEntries(pack: Buffer, packKey: Buffer, name: string): PackEntry[] {
  const trailerLength = pack.readUInt32LE(pack.length - 4);
  const trailerStart = pack.length - 4 - trailerLength;
  if (trailerStart < PACK_HEADER_BYTES) throw new IntegrityError(`pack ${name} is truncated (its trailer does not fit)`);
  const table = open(packKey, pack.subarray(trailerStart, pack.length - 4), TRAILER_AAD, `pack ${name} trailer`);
  if (table.length % ENTRY_BYTES !== 0) throw new IntegrityError(`pack ${name} trailer has a bad length`);
  const entries: PackEntry[] = [];
  for (let at = 0; at < table.length; at += ENTRY_BYTES) {
    const e = readEntry(table, at);
    if (e.offset < PACK_HEADER_BYTES || e.offset + e.length > trailerStart) throw new IntegrityError(`pack ${name} lists a blob outside its data`);
    entries.push(e);
  }
  return entries;
}

/** Index serialization helpers shared with index-file.ts. */
export const packEntryCodec = { ENTRY_BYTES, writeEntry, readEntry };
