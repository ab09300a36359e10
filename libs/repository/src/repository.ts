import { randomBytes } from 'node:crypto';
import { hostname, userInfo } from 'node:os';
import { AlreadyExistsError, NotFoundError, Storage } from '@coffer/storage';
import { DEFAULT_CHUNKER_PARAMS, ChunkerParams, validateChunkerParams } from './chunker/chunker';
import { generateX25519, IntegrityError, openSealed, openSealingSession, ReadKeyPair, sealToPublic, WriteOnlyKeyError } from './crypto/envelope';
import { BlobOpener } from './format/blob-codec';
import { decodeConfig, encodeConfig, looksLikeConfig, RepositoryConfig } from './format/config';
import { decodeIndex, encodeIndex, IndexFile } from './format/index-file';
import { createKeyFile, DEFAULT_SCRYPT, KeyMetadata, MasterKeys, parseKeyFile, readKeyMetadata, unlockKeyFile } from './format/key-file';
import { PACK_INFO } from './format/pack-info';
import { Snapshot, SnapshotRef } from './format/snapshot';
import { decodeTree, Tree } from './format/tree';
import { NotARepositoryError, RepositoryExistsError, SnapshotNotFoundError, UsageError, WrongPasswordError } from './errors';
import { BlobLocation, MasterIndex } from './master-index';
import type { WorkerSetup } from './worker/protocol';
import { createHash } from 'node:crypto';

/** Options of Repository.init. */
export interface InitOptions {
  chunker?: ChunkerParams;
  packSize?: number;
  compressionLevel?: number;
  /** scrypt cost; tests lower it. */
  scrypt?: { N: number; r: number; p: number };
}

/** One key of the repository, as `key list` shows it. */
export interface KeyInfo {
  id: string;
  current: boolean;
  meta?: KeyMetadata;
}

const DEFAULT_PACK_SIZE = 16 * 1024 * 1024;

/**
 * An open repository: the keys unlocked with one password, the config, and (once loaded)
 * the index. Every read checks authenticity; every object written is durable before the
 * objects that reference it are written.
 */
export class Repository {
  private index?: MasterIndex;
  private readonly packKeys = new Map<string, Buffer>();
  private readonly opener: BlobOpener;

  private constructor(
    readonly storage: Storage,
    readonly config: RepositoryConfig,
    readonly master: MasterKeys,
    /** Name of the key file this repository was opened with. */
    readonly keyId: string,
    private readonly scrypt = DEFAULT_SCRYPT,
  ) {
    this.opener = new BlobOpener(master.idKey);
  }

  /** Creates a new repository with one key for `password`. */
  static async init(storage: Storage, password: string, options: InitOptions = {}): Promise<Repository> {
    if (await storage.exists('config')) throw new RepositoryExistsError(`a repository already exists at ${storage.location}`);
    const chunker = options.chunker ?? DEFAULT_CHUNKER_PARAMS;
    validateChunkerParams(chunker);
    const read = generateX25519();
    const master: MasterKeys = {
      repositoryId: randomBytes(16).toString('hex'),
      idKey: randomBytes(32),
      metaKey: randomBytes(32),
      readPublicKey: read.publicKey,
      readPrivateKey: read.privateKey,
    };
    const config: RepositoryConfig = {
      version: 1,
      id: master.repositoryId,
      chunker,
      gearSeed: randomBytes(32).toString('base64'),
      packSize: options.packSize ?? DEFAULT_PACK_SIZE,
      compression: { algorithm: 'zstd', level: options.compressionLevel ?? 3 },
      created: new Date().toISOString(),
    };
    const scrypt = options.scrypt ?? DEFAULT_SCRYPT;
    const keyId = randomBytes(32).toString('hex');
    // The key goes first: a config without a key would be an unopenable repository, while a
    // key without a config is ignored and `init` can simply be run again.
    await storage.put(`keys/${keyId}`, createKeyFile(password, master, keyMetadata(false), scrypt));
    try {
      await storage.put('config', encodeConfig(config, master.metaKey), { exclusive: true });
    } catch (err) {
      await storage.delete(`keys/${keyId}`);
      if (err instanceof AlreadyExistsError) throw new RepositoryExistsError(`a repository already exists at ${storage.location}`);
      throw err;
    }
    return new Repository(storage, config, master, keyId, scrypt);
  }

  /** Opens a repository with any of its passwords. */
  static async open(storage: Storage, password: string): Promise<Repository> {
    let configBytes: Buffer;
    try {
      configBytes = await storage.get('config');
    } catch (err) {
      if (err instanceof NotFoundError) throw new NotARepositoryError(`${storage.location} is not a Coffer repository (it has no config)`);
      throw err;
    }
    if (!looksLikeConfig(configBytes)) throw new NotARepositoryError(`${storage.location} is not a Coffer repository (its config is not one)`);
    const damaged: string[] = [];
    for await (const key of storage.list('keys')) {
      const id = key.name.slice('keys/'.length);
      let master: MasterKeys | undefined;
      try {
        master = unlockKeyFile(parseKeyFile(await storage.get(key.name), key.name), password, key.name);
      } catch (err) {
        if (!(err instanceof IntegrityError)) throw err;
        damaged.push(err.message); // a damaged key must not lock out the others, but is named if none opens
        continue;
      }
      if (!master) continue;
      const config = decodeConfig(configBytes, master.metaKey);
      if (config.id !== master.repositoryId) continue;
      return new Repository(storage, config, master, id);
    }
    if (damaged.length > 0) {
      throw new WrongPasswordError(`no key of the repository at ${storage.location} opens with this password, and ${damaged.length} could not be tried: ${damaged.join('; ')}`);
    }
    throw new WrongPasswordError(`wrong password: no key of the repository at ${storage.location} opens with it`);
  }

  /**
   * Where listings (and so "latest") report a damaged snapshot they leave out. Unset, a
   * damaged snapshot fails them; interactive tools set it so one bad object does not stand
   * between a person and every other snapshot. Prune never uses it.
   */
  onUnreadableSnapshot?: (id: string, err: IntegrityError) => void;

  /** True when this key can read stored data (it is not write-only). */
  get canRead(): boolean {
    return this.master.readPrivateKey !== undefined;
  }

  private get readKeys(): ReadKeyPair {
    return { publicKey: this.master.readPublicKey, privateKey: this.master.readPrivateKey };
  }

  /** Loads (once) every index object. Damaged index objects fail loudly: `check` names them. */
  async loadIndex(reload = false): Promise<MasterIndex> {
    if (this.index && !reload) return this.index;
    const index = new MasterIndex();
    for (const [name, file] of await this.readIndexFiles()) index.addIndexFile(name, file);
    this.index = index;
    return index;
  }

  /**
   * Reads and verifies every index object, by name. Objects in `alreadyRead` (immutable:
   * named by their content) are taken from there rather than fetched again.
   */
  async readIndexFiles(alreadyRead?: ReadonlyMap<string, IndexFile>): Promise<Map<string, IndexFile>> {
    for (let attempt = 1; ; attempt++) {
      const files = new Map<string, IndexFile>();
      try {
        for await (const obj of this.storage.list('index')) {
          const name = obj.name.slice('index/'.length);
          files.set(name, alreadyRead?.get(name) ?? (await this.readIndexFile(name)));
        }
        return files;
      } catch (err) {
        // A prune replaced index objects between the listing and the read; the index that
        // supersedes them is stored before they go, so a new listing finds it.
        if (!(err instanceof NotFoundError) || attempt === 3) throw err;
      }
    }
  }

  /** Uses an index built and verified elsewhere (check builds one from the index objects that verify). */
  useIndex(index: MasterIndex): void {
    this.index = index;
  }

  /** Reads and verifies one index object. */
  async readIndexFile(name: string): Promise<IndexFile> {
    const stored = await this.storage.get(`index/${name}`);
    if (createHash('sha256').update(stored).digest('hex') !== name) throw new IntegrityError(`index ${name} does not match its name (corrupted)`);
    return decodeIndex(stored, this.master.metaKey, name);
  }

  /** Stores an index object; returns its name. */
  async writeIndexFile(file: IndexFile): Promise<string> {
    const bytes = encodeIndex(file, this.master.metaKey);
    const name = createHash('sha256').update(bytes).digest('hex');
    await this.storage.put(`index/${name}`, bytes);
    // Keep a loaded index current, so what this process stored can be read back right away.
    for (const pack of file.packs) this.index?.addPack(pack);
    return name;
  }

  /** The AES key of packs written in a sealing session with this ephemeral key. */
  packKey(ephemeralPublic: Buffer): Buffer {
    if (!this.master.readPrivateKey) throw new WriteOnlyKeyError();
    const cacheKey = ephemeralPublic.toString('hex');
    let key = this.packKeys.get(cacheKey);
    if (!key) {
      key = openSealingSession(this.master.readPrivateKey, this.master.readPublicKey, ephemeralPublic, PACK_INFO);
      this.packKeys.set(cacheKey, key);
    }
    return key;
  }

  /** Reads, decrypts and verifies one blob. */
  async readBlob(id: string): Promise<Buffer> {
    let index = await this.loadIndex();
    let loc = index.get(id);
    if (!loc) {
      // Perhaps stored by another process since the index was loaded: look again before failing.
      index = await this.loadIndex(true);
      loc = index.get(id);
    }
    if (!loc) throw new IntegrityError(`blob ${id} is referenced but not in the index (missing data)`);
    return this.openBlob(id, loc, await this.storage.getRange(`data/${loc.packId}`, loc.offset, loc.length), index);
  }

  /**
   * Decrypts and verifies a blob already read: `sealed` is the blob's bytes in its pack, and
   * `index` the index `loc` came from (it holds the pack's key material).
   */
  openBlob(id: string, loc: Pick<BlobLocation, 'packId' | 'rawLength'>, sealed: Buffer, index: MasterIndex): Buffer {
    const pack = index.packs.get(loc.packId)!;
    return this.opener.open(this.packKey(pack.ephemeralPublic), Buffer.from(id, 'hex'), sealed, loc.rawLength, `blob ${id} in pack ${loc.packId}`);
  }

  /** Reads one directory listing. */
  async readTree(id: string): Promise<Tree> {
    return decodeTree(await this.readBlob(id), `tree ${id}`);
  }

  /**
   * What pipeline workers need: writers get the pack key of their sealing session; readers
   * (restore, check) get the private key instead. No worker gets both.
   */
  workerSetup(role: { packKey: Buffer } | 'reader'): WorkerSetup {
    return {
      idKey: this.master.idKey,
      chunker: this.config.chunker,
      gearSeed: Buffer.from(this.config.gearSeed, 'base64'),
      compressionLevel: this.config.compression.level,
      storageLocation: this.storage.location,
      readPublicKey: this.master.readPublicKey,
      ...(role === 'reader' ? { readPrivateKey: this.master.readPrivateKey } : { packKey: role.packKey }),
    };
  }

  /** Stores a snapshot object, last, after everything it references is durable. */
  async saveSnapshot(snapshot: Snapshot): Promise<string> {
    const bytes = sealToPublic(this.master.readPublicKey, Buffer.from(JSON.stringify(snapshot)), 'snapshot');
    const id = createHash('sha256').update(bytes).digest('hex');
    await this.storage.put(`snapshots/${id}`, bytes);
    return id;
  }

  /** Reads one snapshot by full id. */
  async readSnapshot(id: string): Promise<Snapshot> {
    const stored = await this.storage.get(`snapshots/${id}`);
    if (createHash('sha256').update(stored).digest('hex') !== id) throw new IntegrityError(`snapshot ${id} does not match its name (corrupted)`);
    return JSON.parse(openSealed(this.readKeys, stored, 'snapshot', `snapshot ${id}`).toString('utf8'));
  }

  /** Ids of every snapshot object, without reading them. */
  async listSnapshotIds(): Promise<string[]> {
    const ids: string[] = [];
    for await (const obj of this.storage.list('snapshots')) ids.push(obj.name.slice('snapshots/'.length));
    return ids;
  }

  /**
   * Every snapshot, oldest first. A damaged snapshot fails the listing, unless `onUnreadable` is
   * given: then it is reported there and left out.
   */
  async listSnapshots(onUnreadable = this.onUnreadableSnapshot): Promise<SnapshotRef[]> {
    if (!this.canRead) throw new WriteOnlyKeyError();
    const read = async (id: string): Promise<SnapshotRef[]> => {
      try {
        return [{ id, snapshot: await this.readSnapshot(id) }];
      } catch (err) {
        if (err instanceof NotFoundError) return []; // forgotten between the listing and the read
        if (!onUnreadable || !(err instanceof IntegrityError)) throw err;
        onUnreadable(id, err);
        return [];
      }
    };
    const refs = (await Promise.all((await this.listSnapshotIds()).map(read))).flat();
    return refs.sort((a, b) => a.snapshot.time.localeCompare(b.snapshot.time) || a.id.localeCompare(b.id));
  }

  /**
   * Resolves "latest" (optionally the latest of the snapshots matching `filter`) or a unique
   * id prefix (at least 4 hex digits) to a snapshot.
   */
  async findSnapshot(ref: string, filter: (s: Snapshot) => boolean = () => true): Promise<SnapshotRef> {
    if (ref === 'latest') {
      const all = (await this.listSnapshots()).filter((r) => filter(r.snapshot));
      if (all.length === 0) throw new SnapshotNotFoundError(`no snapshot in ${this.storage.location} matches "latest"`);
      return all[all.length - 1];
    }
    if (!/^[0-9a-f]{4,64}$/.test(ref)) throw new SnapshotNotFoundError(`"${ref}" is not a snapshot id (give "latest" or at least 4 hex digits of an id)`);
    const matches = (await this.listSnapshotIds()).filter((id) => id.startsWith(ref));
    if (matches.length === 0) throw new SnapshotNotFoundError(`no snapshot ${ref} in ${this.storage.location}`);
    if (matches.length > 1) throw new SnapshotNotFoundError(`snapshot id ${ref} is ambiguous (${matches.length} snapshots start with it): give more digits`);
    return { id: matches[0], snapshot: await this.readSnapshot(matches[0]) };
  }

  /** Every key file, with metadata where it can be read. */
  async listKeys(): Promise<KeyInfo[]> {
    const keys: KeyInfo[] = [];
    for await (const obj of this.storage.list('keys')) {
      const id = obj.name.slice('keys/'.length);
      let meta: KeyMetadata | undefined;
      try {
        meta = readKeyMetadata(parseKeyFile(await this.storage.get(obj.name), obj.name), this.master.metaKey, obj.name);
      } catch (err) {
        if (!(err instanceof IntegrityError)) throw err;
      }
      keys.push({ id, current: id === this.keyId, meta });
    }
    return keys.sort((a, b) => (a.meta?.created ?? '').localeCompare(b.meta?.created ?? ''));
  }

  /** Adds a key for another password; a write-only key cannot read anything stored. */
  async addKey(password: string, options: { writeOnly?: boolean } = {}): Promise<string> {
    if (!this.canRead && !options.writeOnly) throw new UsageError('a write-only key can only add write-only keys');
    const master = options.writeOnly ? { ...this.master, readPrivateKey: undefined } : this.master;
    const id = randomBytes(32).toString('hex');
    await this.storage.put(`keys/${id}`, createKeyFile(password, master, keyMetadata(!!options.writeOnly), this.scrypt));
    return id;
  }

  /** Removes a key, never the one in use nor the last full key. */
  async removeKey(idPrefix: string): Promise<string> {
    // A stolen write-only key must not be able to lock the owners out.
    if (!this.canRead) throw new UsageError('a write-only key cannot remove keys: open the repository with a full key');
    const keys = await this.listKeys();
    const matches = keys.filter((k) => k.id.startsWith(idPrefix));
    if (idPrefix.length < 4 || matches.length !== 1) throw new UsageError(`no single key matches "${idPrefix}" (give at least 4 characters of an id from "key list")`);
    const key = matches[0];
    if (key.current) throw new UsageError('refusing to remove the key in use: open the repository with another password to remove this one');
    await this.storage.delete(`keys/${key.id}`);
    return key.id;
  }

  /** Replaces the current key by one for `newPassword`; returns the new key id. */
  async changePassword(newPassword: string): Promise<string> {
    const id = await this.addKey(newPassword, { writeOnly: !this.canRead });
    await this.storage.delete(`keys/${this.keyId}`);
    return id;
  }
}

function keyMetadata(writeOnly: boolean): KeyMetadata {
  let username = 'unknown';
  try {
    username = userInfo().username;
  } catch {
    // no passwd entry for this uid (containers): keep "unknown"
  }
  return { created: new Date().toISOString(), host: hostname(), username, writeOnly };
}
