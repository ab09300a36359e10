import { AccessDeniedError, StorageError, StorageFullError } from './storage';
import type { ObjectInfo, PutOptions, Storage } from './storage';

/** Which calls a fault hits: the Nth put (1-based, counting every put), names matching a test, or both. */
export interface FaultTarget {
  /** Only the call with this 1-based sequence number (puts: counted over all puts; reads: over get/getRange). */
  nth?: number;
  /** Only calls whose object name passes; a RegExp is tested against the name. */
  match?: RegExp | ((name: string) => boolean);
  /** How many times the fault fires before it is spent; default 1 with `nth`, unlimited otherwise. */
  times?: number;
}

/** A put that fails: by default with StorageFullError, as a full disk would. */
export interface PutFault extends FaultTarget {
  /** The error to throw; called with the name so messages can name it. */
  error?: (name: string, location: string) => Error;
  /**
   * Fail after the inner put succeeded, as when an acknowledgement is lost: the object
   * is stored but the caller is told otherwise (tests retry idempotence).
   */
  afterWrite?: boolean;
}

/** A get/getRange that fails: by default with a transient StorageError. */
export interface ReadFault extends FaultTarget {
  error?: (name: string, location: string) => Error;
}

/** Reads see only the first `keepBytes` bytes (default half) of matching objects, in get, getRange, stat and list. */
export interface TruncateFault {
  match?: RegExp | ((name: string) => boolean);
  keepBytes?: number;
}

/** Reads of matching objects have one byte flipped: at `offset` in the object, else mid-way through what is read. */
export interface CorruptFault {
  match?: RegExp | ((name: string) => boolean);
  offset?: number;
}

interface ArmedFault<F> {
  fault: F;
  remaining: number;
}

/**
 * A Storage decorator that fails or damages chosen calls, so tests can show how the code
 * above it copes with a full disk, a flaky network, or a damaged object, without a real one.
 * Faults are checked in the order they were added; the first that applies wins.
 */
export class FaultInjectingStorage implements Storage {
  /** Puts seen so far, including failed ones; `nth` counts against this. */
  putCount = 0;
  /** get/getRange calls seen so far; read faults' `nth` counts against this. */
  readCount = 0;
  private putFaults: ArmedFault<PutFault>[] = [];
  private readFaults: ArmedFault<ReadFault>[] = [];
  private truncations: TruncateFault[] = [];
  private corruptions: CorruptFault[] = [];
  /** Per lagging prefix, the names its listing may show. */
  private laggingListings = new Map<string, Set<string>>();
  private deletesDenied = false;

  constructor(private readonly inner: Storage) {}

  get location(): string {
    return this.inner.location;
  }

  /** Arms a put fault; returns this for chaining. */
  failPut(fault: PutFault = {}): this {
    this.putFaults.push({ fault, remaining: fault.times ?? (fault.nth !== undefined ? 1 : Infinity) });
    return this;
  }

  /** Arms a get/getRange fault; returns this for chaining. */
  failGet(fault: ReadFault = {}): this {
    this.readFaults.push({ fault, remaining: fault.times ?? (fault.nth !== undefined ? 1 : Infinity) });
    return this;
  }

  /** Makes matching objects look truncated until cleared. */
  truncateOnRead(fault: TruncateFault = {}): this {
    this.truncations.push(fault);
    return this;
  }

  /** Makes reads of matching objects return one flipped byte until cleared. */
  corruptOnRead(fault: CorruptFault = {}): this {
    this.corruptions.push(fault);
    return this;
  }

  /**
   * Listings of these prefixes lag behind writes, as an eventually consistent store's may:
   * until cleared they show only the objects there now, whoever writes more meanwhile
   * (other processes included); deleted ones do vanish.
   */
  async lagListings(prefixes: string[]): Promise<this> {
    for (const prefix of prefixes) {
      const names = new Set<string>();
      for await (const info of this.inner.list(prefix)) names.add(info.name);
      this.laggingListings.set(prefix, names);
    }
    return this;
  }

  /** Refuses every delete with AccessDeniedError, as credentials without delete rights do. */
  denyDeletes(): this {
    this.deletesDenied = true;
    return this;
  }

  /** Disarms every fault; the counters keep counting. */
  clearFaults(): this {
    this.putFaults = [];
    this.readFaults = [];
    this.truncations = [];
    this.corruptions = [];
    this.laggingListings.clear();
    this.deletesDenied = false;
    return this;
  }

  async put(name: string, data: Uint8Array, options?: PutOptions): Promise<void> {
    const seq = ++this.putCount;
    const fault = take(this.putFaults, name, seq);
    if (fault !== undefined && !fault.afterWrite) throw this.putError(fault, name);
    await this.inner.put(name, data, options);
    if (fault !== undefined) throw this.putError(fault, name);
  }

  async get(name: string): Promise<Buffer> {
    this.failRead(name);
    const data = await this.inner.get(name);
    const keep = this.keptBytes(name, data.length);
    return this.corrupt(name, data.subarray(0, keep), 0);
  }

  async getRange(name: string, offset: number, length: number): Promise<Buffer> {
    this.failRead(name);
    const truncation = this.truncations.find((t) => matches(t.match, name));
    if (truncation !== undefined) {
      const size = this.keptBytes(name, (await this.inner.stat(name)).size);
      if (offset + length > size) {
        throw new StorageError(
          `${name} in ${this.location} is shorter than expected (truncated?): ` +
            `wanted bytes ${offset}..${offset + length} but it has ${size} bytes`,
          true,
          name,
        );
      }
    }
    return this.corrupt(name, await this.inner.getRange(name, offset, length), offset);
  }

  async stat(name: string): Promise<ObjectInfo> {
    const info = await this.inner.stat(name);
    return { ...info, size: this.keptBytes(name, info.size) };
  }

  exists(name: string): Promise<boolean> {
    return this.inner.exists(name);
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    const visible = this.laggingListings.get(prefix);
    for await (const info of this.inner.list(prefix)) {
      if (visible && !visible.has(info.name)) continue;
      yield { ...info, size: this.keptBytes(info.name, info.size) };
    }
  }

  async delete(name: string): Promise<void> {
    if (this.deletesDenied) throw new AccessDeniedError(this.location, 'delete', name, 'injected: credentials without delete rights');
    return this.inner.delete(name);
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  private putError(fault: PutFault, name: string): Error {
    return fault.error?.(name, this.location) ?? new StorageFullError(this.location, name);
  }

  private failRead(name: string): void {
    const fault = take(this.readFaults, name, ++this.readCount);
    if (fault === undefined) return;
    throw fault.error?.(name, this.location) ?? new StorageError(`injected read failure of ${name} in ${this.location}`, false, name);
  }

  /** How much of an object of `size` bytes a reader may see. */
  private keptBytes(name: string, size: number): number {
    const truncation = this.truncations.find((t) => matches(t.match, name));
    if (truncation === undefined) return size;
    return Math.min(size, truncation.keepBytes ?? Math.floor(size / 2));
  }

  /** Flips a byte of `data`, which starts at `offset` in the object; copies so the inner storage's buffer is untouched. */
  private corrupt(name: string, data: Buffer, offset: number): Buffer {
    const corruption = this.corruptions.find((c) => matches(c.match, name));
    if (corruption === undefined || data.length === 0) return data;
    const at = corruption.offset === undefined ? Math.floor(data.length / 2) : corruption.offset - offset;
    if (at < 0 || at >= data.length) return data;
    const copy = Buffer.from(data);
    copy[at] ^= 0xff;
    return copy;
  }
}

function matches(match: RegExp | ((name: string) => boolean) | undefined, name: string): boolean {
  if (match === undefined) return true;
  // search() rather than test(): a /g RegExp's lastIndex would make test() alternate.
  return typeof match === 'function' ? match(name) : name.search(match) >= 0;
}

/** The first armed fault that applies to this call, spending one of its shots. */
function take<F extends FaultTarget>(armed: ArmedFault<F>[], name: string, seq: number): F | undefined {
  const hit = armed.find(
    (a) => a.remaining > 0 && (a.fault.nth === undefined || a.fault.nth === seq) && matches(a.fault.match, name),
  );
  if (hit === undefined) return undefined;
  hit.remaining--;
  return hit.fault;
}
