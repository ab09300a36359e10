import { compress, decompress } from 'zstd-napi';
import { IntegrityError, openMeta, sealMeta, X25519_PUBLIC_BYTES } from '../crypto/envelope';
import { packEntryCodec, PackEntry } from './pack';

/**
 * An index object (`index/<sha256>`) lists packs and the blobs in each, so writers can
 * deduplicate and readers can find blobs without opening packs. Plaintext layout:
 *   "CFI" 0x01 | u32 pack count | per pack: id (32) | ephemeral public key (32) | u32 size |
 *   u32 entry count | entries (45 bytes each, as in the pack trailer) |
 *   u32 superseded count | ids (32 each) of index objects this one replaces (written by prune)
 * It is zstd-compressed, then sealed with the metaKey (context "index").
 */
export interface IndexedPack {
  id: Buffer;
  ephemeralPublic: Buffer;
  size: number;
  entries: PackEntry[];
}

/** A decoded index object. */
export interface IndexFile {
  packs: IndexedPack[];
  supersedes: Buffer[];
}

const MAGIC = Buffer.from([0x43, 0x46, 0x49, 0x01]);
const { ENTRY_BYTES, writeEntry, readEntry } = packEntryCodec;

/** Serializes, compresses and seals an index. */
export function encodeIndex(index: IndexFile, metaKey: Buffer): Buffer {
  let total = 4 + 4 + 4 + index.supersedes.length * 32;
  for (const p of index.packs) total += 32 + X25519_PUBLIC_BYTES + 8 + p.entries.length * ENTRY_BYTES;
  const buf = Buffer.alloc(total);
  MAGIC.copy(buf, 0);
  let at = buf.writeUInt32LE(index.packs.length, 4);
  for (const p of index.packs) {
    at += p.id.copy(buf, at);
    at += p.ephemeralPublic.copy(buf, at);
    at = buf.writeUInt32LE(p.size, at);
    at = buf.writeUInt32LE(p.entries.length, at);
    for (const e of p.entries) {
      writeEntry(buf, at, e);
      at += ENTRY_BYTES;
    }
  }
  at = buf.writeUInt32LE(index.supersedes.length, at);
  for (const s of index.supersedes) at += s.copy(buf, at);
  return sealMeta(metaKey, compress(buf), 'index');
}

/** Opens and parses an index; throws IntegrityError naming the object when damaged. */
export function decodeIndex(stored: Buffer, metaKey: Buffer, name: string): IndexFile {
  const what = `index ${name}`;
  const packed = openMeta(metaKey, stored, 'index', what);
  let buf: Buffer;
  try {
    buf = decompress(packed);
  } catch {
    throw new IntegrityError(`${what} does not decompress`);
  }
  try {
    if (!buf.subarray(0, 4).equals(MAGIC)) throw new IntegrityError(`${what} has an unknown layout`);
    const packs: IndexedPack[] = [];
    let at = 8;
    for (let n = buf.readUInt32LE(4); n > 0; n--) {
      const id = Buffer.from(buf.subarray(at, at + 32));
      const ephemeralPublic = Buffer.from(buf.subarray(at + 32, at + 64));
      const size = buf.readUInt32LE(at + 64);
      const count = buf.readUInt32LE(at + 68);
      at += 72;
      const entries: PackEntry[] = [];
      for (let i = 0; i < count; i++, at += ENTRY_BYTES) entries.push(readEntry(buf, at));
      packs.push({ id, ephemeralPublic, size, entries });
    }
    const supersedes: Buffer[] = [];
    for (let n = buf.readUInt32LE(at), i = 0; i < n; i++) supersedes.push(Buffer.from(buf.subarray(at + 4 + i * 32, at + 36 + i * 32)));
    return { packs, supersedes };
  } catch (err) {
    if (err instanceof IntegrityError) throw err;
    throw new IntegrityError(`${what} is malformed`);
  }
}
