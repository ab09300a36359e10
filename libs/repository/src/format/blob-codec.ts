import { Compressor, Decompressor } from 'zstd-napi';
import { contentId, IntegrityError, open, seal } from '../crypto/envelope';

const RAW = Buffer.of(0);
const ZSTD = Buffer.of(1);
/** Compressed output must save at least this share of the input to be kept. */
const MIN_SAVING = 1 / 32;

/** Seals one blob: zstd where it pays, then AES-256-GCM with the id as AAD. */
export class BlobSealer {
  private readonly compressor = new Compressor();

  constructor(
    private readonly packKey: Buffer,
    level: number,
  ) {
    this.compressor.setParameters({ compressionLevel: level });
  }

  seal(id: Buffer, plaintext: Uint8Array): Buffer {
    if (plaintext.length >= 64) {
      const packed = this.compressor.compress(plaintext);
      if (packed.length <= plaintext.length * (1 - MIN_SAVING)) return seal(this.packKey, [ZSTD, packed], id);
    }
    return seal(this.packKey, [RAW, plaintext], id);
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
