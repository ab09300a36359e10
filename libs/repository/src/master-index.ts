import type { IndexFile, IndexedPack } from './format/index-file';
import type { BlobType } from './format/pack';

/** Where one blob is stored. */
export interface BlobLocation {
  packId: string;
  type: BlobType;
  offset: number;
  length: number;
  rawLength: number;
}

/** What the index knows of a pack. */
export interface PackInfo {
  ephemeralPublic: Buffer;
  size: number;
  blobCount: number;
}

/**
 * The union of every index object: blob id → location, pack id → pack facts. A blob may sit
 * in several packs (two writers stored it at once, or prune was interrupted); any copy will do.
 */
export class MasterIndex {
  readonly blobs = new Map<string, BlobLocation>();
  readonly packs = new Map<string, PackInfo>();
  /** Names of the index objects loaded. */
  readonly indexIds: string[] = [];

  has(id: string): boolean {
    return this.blobs.has(id);
  }

  get(id: string): BlobLocation | undefined {
    return this.blobs.get(id);
  }

  addIndexFile(name: string, file: IndexFile): void {
    this.indexIds.push(name);
    for (const pack of file.packs) this.addPack(pack);
  }

  addPack(pack: IndexedPack): void {
    const packId = pack.id.toString('hex');
    this.packs.set(packId, { ephemeralPublic: pack.ephemeralPublic, size: pack.size, blobCount: pack.entries.length });
    for (const e of pack.entries) {
      const id = e.id.toString('hex');
      if (!this.blobs.has(id)) this.blobs.set(id, { packId, type: e.type, offset: e.offset, length: e.length, rawLength: e.rawLength });
    }
  }
}
