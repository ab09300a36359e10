import { BlobType, PackBuilder } from '../format/pack';
import type { IndexedPack } from '../format/index-file';
import type { Repository } from '../repository';

/** Index objects are written after this many new packs, so a killed backup's data is reused. */
const PACKS_PER_INDEX = 16;
/**
 * Packs uploading at once: more than one lets a slow PUT to a remote store overlap the next,
 * instead of holding the workers up (dedup answers wait for room); each costs a pack of memory.
 */
const MAX_UPLOADS = 3;

/**
 * Gathers sealed blobs into packs and uploads them, at most MAX_UPLOADS at once. A pack
 * enters an index object only after its upload is durable, and the snapshot is written by
 * the caller only after flush(): nothing written ever references data not yet stored.
 */
export class PackWriter {
  private builder: PackBuilder;
  private readonly uploads = new Set<Promise<void>>();
  /**
   * Buffers of packs stored, for the next packs: as many exist as packs are ever filling or
   * in flight at once (on a local disk that is mostly two, as uploads end in milliseconds).
   */
  private readonly spareBuffers: Buffer[] = [];
  private unindexed: IndexedPack[] = [];
  private indexWrite: Promise<void> = Promise.resolve();
  private failure?: unknown;
  /** Bytes of packs written (stored size). */
  bytesStored = 0;
  packsWritten = 0;

  constructor(
    private readonly repo: Repository,
    private readonly packKey: Buffer,
    private readonly ephemeralPublic: Buffer,
  ) {
    this.builder = this.newBuilder();
  }

  private newBuilder(): PackBuilder {
    // Room for a full pack plus the largest blob that can cross the limit, so packs never
    // regrow; allocUnsafe pages not written to take no memory.
    const capacity = this.repo.config.packSize + this.repo.config.chunker.maxSize + (1 << 16);
    return new PackBuilder(this.packKey, this.ephemeralPublic, capacity, this.spareBuffers.pop());
  }

  /** Adds one sealed blob; closes the pack when it is full. */
  add(type: BlobType, id: Buffer, sealed: Uint8Array, rawLength: number): void {
    this.builder.add(type, id, sealed, rawLength);
    if (this.builder.length >= this.repo.config.packSize) this.closePack();
  }

  /** Resolves once an upload slot is free; throws the first upload failure. */
  async waitForRoom(): Promise<void> {
    while (this.uploads.size >= MAX_UPLOADS) await Promise.race(this.uploads);
    this.throwIfFailed();
  }

  /** Uploads what is buffered and indexes every pack written. */
  async flush(): Promise<void> {
    if (this.builder.entries.length > 0) this.closePack();
    while (this.uploads.size > 0) await Promise.race(this.uploads);
    this.throwIfFailed();
    this.writeIndex();
    await this.indexWrite;
    this.throwIfFailed();
  }

  /** Resolves once nothing is in flight, failed or not, so no write outlives the caller's lock. */
  async settle(): Promise<void> {
    while (this.uploads.size > 0) await Promise.race(this.uploads);
    await this.indexWrite;
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure;
  }

  private closePack(): void {
    const builder = this.builder;
    this.builder = this.newBuilder();
    const { id, bytes } = builder.finish();
    const upload = this.repo.storage
      .put(`data/${id}`, bytes)
      .then(() => {
        this.bytesStored += bytes.length;
        this.packsWritten++;
        this.unindexed.push({ id: Buffer.from(id, 'hex'), ephemeralPublic: this.ephemeralPublic, size: bytes.length, entries: builder.entries });
        if (this.unindexed.length >= PACKS_PER_INDEX) this.writeIndex();
        // Only after success: a failed PUT's request may still be reading the bytes.
        this.spareBuffers.push(builder.backingBuffer);
      })
      .catch((err) => {
        this.failure ??= err;
      })
      .finally(() => this.uploads.delete(upload));
    this.uploads.add(upload);
  }

  private writeIndex(): void {
    if (this.unindexed.length === 0) return;
    const packs = this.unindexed;
    this.unindexed = [];
    this.indexWrite = this.indexWrite.then(() =>
      this.repo.writeIndexFile({ packs, supersedes: [] }).then(
        () => undefined,
        (err) => {
          this.failure ??= err;
        },
      ),
    );
  }
}
