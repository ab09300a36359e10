import { Decompressor } from 'zstd-napi';
import { CCtx, CParameter, compressBound } from 'zstd-napi/binding';
import { contentId, IntegrityError, NONCE_BYTES, open, seal, sealInto, TAG_BYTES } from '../crypto/envelope';

const RAW = Buffer.of(0);
const ZSTD = Buffer.of(1);
/** Compressed output must save at least this share of the input to be kept. */
const MIN_SAVING = 1 / 32;

/** Bytes sealing adds to a blob: compression byte, nonce, tag. */
export const BLOB_OVERHEAD = 1 + NONCE_BYTES + TAG_BYTES;

/**
 * Seals one blob: zstd where it pays, then AES-256-GCM with the id as AAD. Compresses into
 * one reused scratch buffer: a fresh output buffer per chunk is megabytes of garbage each.
 */
export class BlobSealer {
  private readonly cctx = new CCtx();
  private scratch = Buffer.alloc(0);

  constructor(
    private readonly packKey: Buffer,
    level: number,
  ) {
    this.cctx.setParameter(CParameter.compressionLevel, level);
  }

  /** The blob's sealed bytes, as a new buffer. */
  seal(id: Buffer, plaintext: Uint8Array): Buffer {
    return seal(this.packKey, this.parts(plaintext), id);
  }

  /** Seals into `dest` at `offset` (room for plaintext + BLOB_OVERHEAD needed); returns the length. */
  sealInto(dest: Buffer, offset: number, id: Buffer, plaintext: Uint8Array): number {
    return sealInto(dest, offset, this.packKey, this.parts(plaintext), id);
  }

  private parts(plaintext: Uint8Array): Uint8Array[] {
    if (plaintext.length >= 64) {
      const bound = compressBound(plaintext.length);
      if (this.scratch.length < bound) this.scratch = Buffer.allocUnsafe(bound);
      const packed = this.cctx.compress2(this.scratch, plaintext);
      if (packed <= plaintext.length * (1 - MIN_SAVING)) return [ZSTD, this.scratch.subarray(0, packed)];
    }
    return [RAW, plaintext];
  }
}

/** Opens blobs and checks that their plaintext hashes back to their id. */
export class BlobOpener {
  private readonly decompressor = new Decompressor();

  constructor(private readonly idKey: Buffer) {}

  open(packKey: Buffer, id: Buffer, sealed: Uint8Array, rawLength: number, what: string): Buffer {
    const plain = open(packKey, sealed, id, what);
    let data: Buffer;
    if (plain[0] === 1) {
      try {
        data = this.decompressor.decompress(plain.subarray(1));
      } catch {
        throw new IntegrityError(`${what} does not decompress`);
      }
    } else if (plain[0] === 0) {
      data = plain.subarray(1);
    } else {
      throw new IntegrityError(`${what} has unknown compression ${plain[0]}`);
    }
    if (data.length !== rawLength || !contentId(this.idKey, data).equals(id)) {
      throw new IntegrityError(`${what} does not match its id (corrupted)`);
    }
    return data;
  }
}
