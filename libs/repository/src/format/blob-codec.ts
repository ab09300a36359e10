import { CCtx, CParameter, compressBound, DCtx } from 'zstd-napi/binding';
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
  private readonly dctx = new DCtx();
  private output = Buffer.alloc(0);

  /**
   * With `reuseOutput`, a decompressed blob lands in one buffer kept for the next, and what
   * open() returns is valid only until the next call: for callers that write it out or drop
   * it at once (restore and check in the workers), where a fresh buffer per blob is
   * gigabytes of allocations and garbage per restore.
   */
  constructor(
    private readonly idKey: Buffer,
    private readonly reuseOutput = false,
  ) {}

  open(packKey: Buffer, id: Buffer, sealed: Uint8Array, rawLength: number, what: string): Buffer {
    const plain = open(packKey, sealed, id, what);
    let data: Buffer;
    if (plain[0] === 1) {
      const into = this.outputFor(rawLength);
      try {
        data = into.subarray(0, this.dctx.decompress(into, plain.subarray(1)));
      } catch {
        // Also when the blob inflates past the length the index gives it.
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

  private outputFor(rawLength: number): Buffer {
    if (!this.reuseOutput) return Buffer.allocUnsafe(rawLength);
    if (this.output.length < rawLength) this.output = Buffer.allocUnsafe(rawLength);
    return this.output;
  }
}
