import { createHash } from 'node:crypto';

// Content-defined chunking, FastCDC 2020 family (Xia et al., "The Design of Fast
// Content-Defined Chunking for Data Deduplication Based Storage Systems", TPDS 2020):
// a gear rolling hash, cut-point skipping below minSize, and normalized chunking at
// level 2 — a mask with log2(avg)+2 bits before avgSize (cuts are rarer) and one with
// log2(avg)-2 bits after it (cuts are likelier), which narrows the chunk size spread.
//
// The hash is 32 bits: h = (h << 1) + gear[byte] mod 2^32 (kept as an int32 via `| 0`,
// the same bits as `>>> 0`, so V8 stays in integer registers). A byte's contribution is
// shifted out after 32 steps, so bit k of h depends only on the last k+1 bytes. The masks
// therefore take the *top* bits of h (a 11..32-byte window), never the low bits, which
// would depend on only a few bytes; the small mask's bits are a subset of the large
// one's. Each tested position hashes the full 32-byte window ending at it (the hash is
// warmed over the 31 bytes before minSize), so whether a position is a cut candidate
// depends only on those 32 bytes and on which size region it falls in.
//
// Cut points must be reproducible by every writer of a repository forever: changing the
// table derivation, the masks or the position arithmetic below silently breaks
// deduplication against existing data. The spec pins them with golden values.

const KiB = 1024;
const MiB = 1024 * KiB;

/** Smallest allowed minSize: below this the 32-byte hash window is mostly empty. */
const MIN_MIN_SIZE = 64;
/** Largest allowed maxSize; bounds the memory a chunk (and StreamChunker) may hold. */
const MAX_MAX_SIZE = 64 * MiB;
/** Length the repository secret given to gearTableFromSeed must have. */
const SEED_LENGTH = 32;
/** Domain separation so the gear table is unrelated to other uses of the same secret. */
const GEAR_DOMAIN = Buffer.from('coffer/chunker/gear-table/v1\0', 'utf8');

/** Parameters stored in the repository config so every writer cuts alike. avgSize is a power of two. */
export interface ChunkerParams {
  /** No cut is made before this many bytes (except for the last chunk of a stream). */
  minSize: number;
  /** Target chunk size; a power of two that sets the mask bit counts. */
  avgSize: number;
  /** A chunk is cut here if no content-defined cut point was found before. */
  maxSize: number;
}

/** Defaults for new repositories: 512 KiB / 1 MiB / 8 MiB. */
export const DEFAULT_CHUNKER_PARAMS: ChunkerParams = Object.freeze({
  minSize: 512 * KiB,
  avgSize: 1 * MiB,
  maxSize: 8 * MiB,
});

/**
 * 256 pseudo-random 32-bit values derived deterministically from a 32-byte repository
 * secret, so chunk boundaries (and hence chunk sizes) differ per repository and do not
 * leak which known files a repository holds. Derivation: entry 8·i+j is the j-th
 * big-endian 32-bit word of SHA-256(domain ‖ seed ‖ uint32be(i)), for i in 0..31.
 */
export function gearTableFromSeed(seed: Uint8Array): Uint32Array {
  if (!(seed instanceof Uint8Array) || seed.length !== SEED_LENGTH) {
    throw new Error(`chunker seed must be ${SEED_LENGTH} bytes, got ${seed instanceof Uint8Array ? seed.length : typeof seed}`);
  }
  const table = new Uint32Array(256);
  const counter = Buffer.alloc(4);
  for (let block = 0; block < 32; block++) {
    counter.writeUInt32BE(block, 0);
    const digest = createHash('sha256').update(GEAR_DOMAIN).update(seed).update(counter).digest();
    for (let word = 0; word < 8; word++) {
      table[block * 8 + word] = digest.readUInt32BE(word * 4);
    }
  }
  return table;
}

/** Throws a plain Error with a clear message if params are invalid (avg not power of two, min<64, min<avg<max, max ≤ 64 MiB). */
export function validateChunkerParams(p: ChunkerParams): void {
  const problems: string[] = [];
  for (const key of ['minSize', 'avgSize', 'maxSize'] as const) {
    const v = p?.[key];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) {
      problems.push(`${key} must be a positive integer (got ${String(v)})`);
    }
  }
  if (problems.length === 0) {
    const { minSize, avgSize, maxSize } = p;
    if (!Number.isInteger(Math.log2(avgSize))) {
      problems.push(`avgSize must be a power of two (got ${avgSize})`);
    }
    if (minSize < MIN_MIN_SIZE) {
      problems.push(`minSize must be at least ${MIN_MIN_SIZE} bytes (got ${minSize})`);
    }
    if (!(minSize < avgSize && avgSize < maxSize)) {
      problems.push(`sizes must satisfy minSize < avgSize < maxSize (got ${minSize} / ${avgSize} / ${maxSize})`);
    }
    if (maxSize > MAX_MAX_SIZE) {
      problems.push(`maxSize must be at most ${MAX_MAX_SIZE} bytes (64 MiB) (got ${maxSize})`);
    }
  }
  if (problems.length > 0) {
    throw new Error(`invalid chunker parameters: ${problems.join('; ')}`);
  }
}

/** Mask selecting the top `bits` bits of a 32-bit hash, as a signed int32. */
function topBitsMask(bits: number): number {
  return (0xffffffff << (32 - bits)) | 0;
}

/** Checks the table shape once per call (the hot loop trusts it). */
function checkGear(gear: Uint32Array): Uint32Array {
  if (!(gear instanceof Uint32Array) || gear.length !== 256) {
    throw new Error(`gear table must be a Uint32Array of 256 entries, got ${gear?.length} entries`);
  }
  return gear;
}

/**
 * findCut with a resume point: bytes before `from` (≥ start) were already tested
 * against the masks for this same chunk start and matched nothing. Because the hash
 * only remembers the last 32 bytes, re-hashing the 31 bytes before `from` restores the
 * exact state, so the result is identical to scanning from the chunk start.
 * No allocation and no property lookups inside the loops: this is the hot path.
 */
function scan(
  buf: Uint8Array,
  start: number,
  from: number,
  end: number,
  eof: boolean,
  params: ChunkerParams,
  gear: Uint32Array,
): number {
  const len = end - start;
  const { minSize, avgSize, maxSize } = params;
  if (len <= minSize) {
    // Covers start === end too: 0 with eof, else "need more".
    return eof ? len : -1;
  }
  const bits = 31 - Math.clz32(avgSize);
  const maskS = topBitsMask(bits + 2);
  const maskL = topBitsMask(bits - 2);
  const hashStart = start + minSize;
  const limit = start + Math.min(len, maxSize);
  const normal = Math.min(start + avgSize, limit);

  // Warm the hash over the 31 bytes before the first position to test, so every tested
  // position sees the full 32-byte window (minSize ≥ 64 keeps them inside the chunk).
  const first = from > hashStart ? from : hashStart;
  let h = 0;
  let i = first - 31;
  for (; i < first; i++) {
    h = ((h << 1) + gear[buf[i]]) | 0;
  }
  for (; i < normal; i++) {
    h = ((h << 1) + gear[buf[i]]) | 0;
    if ((h & maskS) === 0) {
      return i + 1 - start;
    }
  }
  for (; i < limit; i++) {
    h = ((h << 1) + gear[buf[i]]) | 0;
    if ((h & maskL) === 0) {
      return i + 1 - start;
    }
  }
  if (len >= maxSize) {
    return maxSize;
  }
  return eof ? len : -1;
}

/**
 * Length of the chunk that starts at buf[start], looking only at buf[start..end).
 * Returns -1 when more data is needed: no cut point found, end-start < maxSize and !eof.
 * With eof, returns end-start if no cut point is found (the last chunk; may be < minSize). Never returns 0 unless start===end and eof (then returns 0).
 * The result depends only on the bytes from `start` on, never on what follows the cut.
 * `params` must have passed validateChunkerParams (not re-checked here, for speed).
 */
export function findCut(
  buf: Uint8Array,
  start: number,
  end: number,
  eof: boolean,
  params: ChunkerParams,
  gear: Uint32Array,
): number {
  if (!(Number.isInteger(start) && Number.isInteger(end) && 0 <= start && start <= end && end <= buf.length)) {
    throw new RangeError(`findCut: need 0 <= start <= end <= buf.length (got ${start}, ${end}, ${buf.length})`);
  }
  return scan(buf, start, start, end, eof, params, checkGear(gear));
}

/** Copies buf[from..to) into a Buffer that owns its whole ArrayBuffer. */
function ownedCopy(buf: Uint8Array, from: number, to: number): Buffer {
  const chunk = Buffer.allocUnsafeSlow(to - from);
  chunk.set(buf.subarray(from, to));
  return chunk;
}

/**
 * Incremental chunker: push() buffers of any size and get back every chunk completed so
 * far; finish() returns the tail and resets the instance for the next stream. Output is
 * identical however the input is split, and equals cutting the whole stream with findCut.
 *
 * Every returned Buffer is a fresh copy with an ArrayBuffer of its own (never Node's
 * shared pool, so it can be transferred to a worker). The chunker never writes to it
 * again and keeps no reference to a pushed buffer after push() returns, so callers may
 * reuse their read buffers. Between calls it holds one partial chunk (< maxSize) in a
 * buffer that grows up to maxSize and is kept for reuse after finish(); bytes of that
 * chunk already scanned are not hashed again (only a 31-byte re-warm).
 */
export class StreamChunker {
  private readonly gear: Uint32Array;
  private readonly params: ChunkerParams;
  /** Holds the bytes of the chunk in progress; grows on demand up to maxSize. */
  private pending: Buffer = Buffer.alloc(0);
  private pendingLen = 0;
  /** Bytes of `pending` already tested for a cut (resume point for scan). */
  private scanned = 0;

  /** Validates params (throws like validateChunkerParams) and the 256-entry gear table. */
  constructor(params: ChunkerParams, gear: Uint32Array) {
    validateChunkerParams(params);
    this.params = { minSize: params.minSize, avgSize: params.avgSize, maxSize: params.maxSize };
    // Own a copy so a caller mutating its table cannot change cut points mid-stream.
    this.gear = checkGear(gear).slice();
  }

  /** Adds the next bytes of the stream; returns the chunks completed by them (maybe none). */
  push(data: Uint8Array): Buffer[] {
    const out: Buffer[] = [];
    const { maxSize } = this.params;
    let pos = 0;

    if (this.pendingLen > 0) {
      // Complete the chunk in progress. It has no cut yet and is shorter than maxSize,
      // so topping it up to at most maxSize bytes is always enough to decide its end.
      const take = Math.min(data.length, maxSize - this.pendingLen);
      const total = this.pendingLen + take;
      this.reserve(total);
      this.pending.set(data.subarray(0, take), this.pendingLen);
      const cut = scan(this.pending, 0, this.scanned, total, false, this.params, this.gear);
      if (cut < 0) {
        this.pendingLen = total;
        this.scanned = total;
        return out;
      }
      out.push(ownedCopy(this.pending, 0, cut));
      // The cut lies past the old pending bytes (they were scanned without a match), so
      // the rest of the stream continues inside `data` and is chunked from there directly.
      pos = cut - this.pendingLen;
      this.pendingLen = 0;
      this.scanned = 0;
    }

    for (;;) {
      const cut = scan(data, pos, pos, data.length, false, this.params, this.gear);
      if (cut < 0) {
        break;
      }
      out.push(ownedCopy(data, pos, pos + cut));
      pos += cut;
    }

    const rest = data.length - pos;
    if (rest > 0) {
      this.reserve(rest);
      this.pending.set(data.subarray(pos), 0);
      this.pendingLen = rest;
      this.scanned = rest;
    }
    return out;
  }

  /** Ends the stream: returns the last chunk (may be shorter than minSize), or none if the stream was empty. */
  finish(): Buffer[] {
    const out: Buffer[] = [];
    let pos = 0;
    while (pos < this.pendingLen) {
      const cut = scan(this.pending, pos, pos === 0 ? this.scanned : pos, this.pendingLen, true, this.params, this.gear);
      out.push(ownedCopy(this.pending, pos, pos + cut));
      pos += cut;
    }
    this.pendingLen = 0;
    this.scanned = 0;
    return out;
  }

  /** Ensures `pending` can hold n bytes (n ≤ maxSize), keeping its current contents. */
  private reserve(n: number): void {
    if (this.pending.length >= n) {
      return;
    }
    const size = Math.min(this.params.maxSize, Math.max(n, 2 * this.pending.length, 64 * KiB));
    const next = Buffer.allocUnsafe(size);
    this.pending.copy(next, 0, 0, this.pendingLen);
    this.pending = next;
  }
}
