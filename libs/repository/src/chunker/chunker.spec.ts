import { createCipheriv, createHash } from 'node:crypto';
import fc from 'fast-check';
import {
  ChunkerParams,
  DEFAULT_CHUNKER_PARAMS,
  StreamChunker,
  findCut,
  gearTableFromSeed,
  validateChunkerParams,
} from './chunker';

const KiB = 1024;
const MiB = 1024 * KiB;
const SMALL: ChunkerParams = { minSize: 64, avgSize: 256, maxSize: 1024 };
const SEED_A = new Uint8Array(32).fill(0xa5);
const SEED_B = new Uint8Array(32).fill(0x5a);
const GEAR_A = gearTableFromSeed(SEED_A);
const GEAR_B = gearTableFromSeed(SEED_B);

/** Deterministic pseudo-random bytes (AES-128-CTR keystream keyed by the seed). */
function randomBytes(seed: number, length: number): Buffer {
  const key = createHash('sha256').update(`chunker-spec-${seed}`).digest().subarray(0, 16);
  return createCipheriv('aes-128-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(length));
}

/** Reference cutting of a whole stream with findCut; returns chunk lengths. */
function cutAll(data: Uint8Array, params: ChunkerParams, gear: Uint32Array): number[] {
  const lengths: number[] = [];
  for (let pos = 0; pos < data.length; ) {
    const len = findCut(data, pos, data.length, true, params, gear);
    lengths.push(len);
    pos += len;
  }
  return lengths;
}

/** Runs StreamChunker over data pushed in pieces cut at the given (unsorted, maybe repeated) offsets. */
function streamChunks(data: Uint8Array, splits: number[], params: ChunkerParams, gear: Uint32Array): Buffer[] {
  const chunker = new StreamChunker(params, gear);
  const offsets = [...new Set(splits.map((s) => Math.min(s, data.length)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let prev = 0;
  for (const off of [...offsets, data.length]) {
    chunks.push(...chunker.push(data.subarray(prev, off)));
    prev = off;
  }
  chunks.push(...chunker.finish());
  return chunks;
}

function expectWellFormed(data: Uint8Array, chunks: Uint8Array[], params: ChunkerParams): void {
  expect(Buffer.concat(chunks).equals(Buffer.from(data))).toBe(true);
  chunks.forEach((chunk, i) => {
    expect(chunk.length).toBeLessThanOrEqual(params.maxSize);
    expect(chunk.length).toBeGreaterThan(0);
    if (i < chunks.length - 1) {
      expect(chunk.length).toBeGreaterThanOrEqual(params.minSize);
    }
  });
}

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** Random bytes or a short repeated pattern (low entropy exercises the maxSize cut). */
const streamData = fc.oneof(
  fc.uint8Array({ minLength: 0, maxLength: 6000 }),
  fc
    .tuple(fc.uint8Array({ minLength: 1, maxLength: 8 }), fc.integer({ min: 0, max: 5000 }))
    .map(([pattern, length]) => Uint8Array.from({ length }, (_, i) => pattern[i % pattern.length])),
);

describe('validateChunkerParams', () => {
  it('accepts the defaults and the small test params', () => {
    expect(() => validateChunkerParams(DEFAULT_CHUNKER_PARAMS)).not.toThrow();
    expect(() => validateChunkerParams(SMALL)).not.toThrow();
    expect(DEFAULT_CHUNKER_PARAMS).toEqual({ minSize: 512 * KiB, avgSize: 1 * MiB, maxSize: 8 * MiB });
  });

  it.each<[string, ChunkerParams, RegExp]>([
    ['avg not a power of two', { minSize: 64, avgSize: 300, maxSize: 1024 }, /avgSize must be a power of two \(got 300\)/],
    ['min below 64', { minSize: 32, avgSize: 256, maxSize: 1024 }, /minSize must be at least 64 bytes \(got 32\)/],
    ['min not below avg', { minSize: 256, avgSize: 256, maxSize: 1024 }, /minSize < avgSize < maxSize \(got 256 \/ 256 \/ 1024\)/],
    ['avg not below max', { minSize: 64, avgSize: 1024, maxSize: 1024 }, /minSize < avgSize < maxSize/],
    ['max above 64 MiB', { minSize: 1 * MiB, avgSize: 4 * MiB, maxSize: 65 * MiB }, /maxSize must be at most 67108864 bytes \(64 MiB\)/],
    ['non-integer', { minSize: 64.5, avgSize: 256, maxSize: 1024 }, /minSize must be a positive integer \(got 64.5\)/],
    ['missing', { minSize: 64, avgSize: 256 } as ChunkerParams, /maxSize must be a positive integer \(got undefined\)/],
  ])('rejects %s', (_name, params, message) => {
    expect(() => validateChunkerParams(params)).toThrow(message);
    expect(() => validateChunkerParams(params)).toThrow(/^invalid chunker parameters: /);
  });

  it('names every problem at once', () => {
    expect(() => validateChunkerParams({ minSize: 8, avgSize: 100, maxSize: 50 })).toThrow(
      /avgSize must be a power of two.*minSize must be at least 64.*minSize < avgSize < maxSize/,
    );
  });

  it('is applied by the StreamChunker constructor', () => {
    expect(() => new StreamChunker({ minSize: 64, avgSize: 300, maxSize: 1024 }, GEAR_A)).toThrow(/power of two/);
    expect(() => new StreamChunker(SMALL, new Uint32Array(10))).toThrow(/256 entries/);
  });
});

describe('gearTableFromSeed', () => {
  it('is deterministic and seed-dependent', () => {
    expect(gearTableFromSeed(new Uint8Array(32).fill(0xa5))).toEqual(GEAR_A);
    expect(GEAR_A).toHaveLength(256);
    expect(GEAR_B).not.toEqual(GEAR_A);
    expect(new Set(GEAR_A).size).toBeGreaterThan(250);
  });

  it('keeps its derivation (changing it breaks dedup against existing repositories)', () => {
    const gear = gearTableFromSeed(new Uint8Array(32));
    expect(Array.from(gear.subarray(0, 4))).toEqual(GOLDEN_GEAR_ZERO_SEED_HEAD);
  });

  it('rejects a seed that is not 32 bytes', () => {
    expect(() => gearTableFromSeed(new Uint8Array(16))).toThrow('chunker seed must be 32 bytes, got 16');
  });
});

describe('findCut', () => {
  const data = randomBytes(1, 64 * KiB);

  it('keeps its cut points (changing them breaks dedup against existing repositories)', () => {
    expect(cutAll(data.subarray(0, 4 * KiB), SMALL, GEAR_A)).toEqual(GOLDEN_SMALL_LENGTHS);
  });

  it('asks for more data, ends the stream and cuts at maxSize as documented', () => {
    expect(findCut(data, 10, 10, true, SMALL, GEAR_A)).toBe(0);
    expect(findCut(data, 10, 10, false, SMALL, GEAR_A)).toBe(-1);
    expect(findCut(data, 0, 40, false, SMALL, GEAR_A)).toBe(-1);
    expect(findCut(data, 0, 40, true, SMALL, GEAR_A)).toBe(40);
    // A constant hash with the top bit set never matches a mask: every chunk is maxSize.
    const noCuts = new Uint32Array(256).fill(0x80000000);
    expect(findCut(data, 0, 5000, false, SMALL, noCuts)).toBe(1024);
    expect(findCut(data, 0, 1023, false, SMALL, noCuts)).toBe(-1);
    expect(findCut(data, 0, 1023, true, SMALL, noCuts)).toBe(1023);
    expect(() => findCut(data, 5, 4, true, SMALL, GEAR_A)).toThrow(RangeError);
    expect(() => findCut(data, 0, data.length + 1, true, SMALL, GEAR_A)).toThrow(RangeError);
  });

  it('depends only on bytes from the chunk start up to the cut', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 0, max: 255 }), (seed, junk) => {
        const buf = randomBytes(seed, 8 * KiB);
        const len = findCut(buf, 0, buf.length, false, SMALL, GEAR_A);
        expect(len).toBeGreaterThanOrEqual(SMALL.minSize);
        // Same answer with less lookahead, at another offset, and with the bytes after the cut changed.
        expect(findCut(buf, 0, len, false, SMALL, GEAR_A)).toBe(len);
        const shifted = Buffer.concat([Buffer.from([junk, junk, junk]), buf]);
        shifted.fill(junk ^ 0xff, 3 + len);
        expect(findCut(shifted, 3, shifted.length, true, SMALL, GEAR_A)).toBe(len);
      }),
    );
  });
});

describe('StreamChunker', () => {
  it('produces well-formed chunks (small params)', () => {
    fc.assert(
      fc.property(streamData, (data) => {
        expectWellFormed(data, streamChunks(data, [], SMALL, GEAR_A), SMALL);
      }),
    );
  });

  it('gives the same chunks however the input is split into pushes', () => {
    fc.assert(
      fc.property(streamData, fc.array(fc.nat({ max: 6000 }), { maxLength: 40 }), (data, splits) => {
        const whole = cutAll(data, SMALL, GEAR_A);
        const pushed = streamChunks(data, splits, SMALL, GEAR_A);
        expect(pushed.map((c) => c.length)).toEqual(whole);
        expectWellFormed(data, pushed, SMALL);
      }),
    );
  });

  it('handles one-byte pushes (every position is a resume point)', () => {
    const data = randomBytes(2, 20 * KiB);
    const splits = Array.from({ length: data.length }, (_, i) => i);
    expect(streamChunks(data, splits, SMALL, GEAR_A).map((c) => c.length)).toEqual(cutAll(data, SMALL, GEAR_A));
  });

  it('gives the same chunks however the input is split, with the default params on a few MiB', () => {
    const data = randomBytes(3, 6 * MiB);
    const whole = cutAll(data, DEFAULT_CHUNKER_PARAMS, GEAR_A);
    expect(whole.length).toBeGreaterThan(2);
    fc.assert(
      fc.property(fc.array(fc.nat({ max: data.length }), { maxLength: 12 }), (splits) => {
        const pushed = streamChunks(data, splits, DEFAULT_CHUNKER_PARAMS, GEAR_A);
        expect(pushed.map((c) => c.length)).toEqual(whole);
        expectWellFormed(data, pushed, DEFAULT_CHUNKER_PARAMS);
      }),
      { numRuns: 15 },
    );
  });

  it('hands out owned copies, and can be reused after finish()', () => {
    const data = randomBytes(4, 8 * KiB);
    const input = Buffer.from(data);
    const chunker = new StreamChunker(SMALL, GEAR_A);
    const first = [...chunker.push(input.subarray(0, 3000)), ...chunker.push(input.subarray(3000)), ...chunker.finish()];
    input.fill(0);
    expect(Buffer.concat(first).equals(data)).toBe(true);
    for (const chunk of first) {
      // Each chunk owns its memory (transferable; not a view of the pool or of the input).
      expect(chunk.byteOffset).toBe(0);
      expect(chunk.buffer.byteLength).toBe(chunk.length);
    }
    const second = [...chunker.push(data), ...chunker.finish()];
    expect(second.map((c) => c.length)).toEqual(first.map((c) => c.length));
    expect(chunker.finish()).toEqual([]);
  });

  /** Chunk hashes of data and of data with `inserted` spliced in at `at`; and how many trailing chunks they share. */
  function insertionEffect(seed: number, at: number, inserted: Uint8Array): { before: string[]; after: string[]; sharedTail: number } {
    const original = randomBytes(seed, 64 * SMALL.avgSize);
    const modified = Buffer.concat([original.subarray(0, at), inserted, original.subarray(at)]);
    const before = streamChunks(original, [], SMALL, GEAR_A).map(sha);
    const after = streamChunks(modified, [], SMALL, GEAR_A).map(sha);
    let sharedTail = 0;
    while (sharedTail < before.length && before[before.length - 1 - sharedTail] === after[after.length - 1 - sharedTail]) {
      sharedTail++;
    }
    return { before, after, sharedTail };
  }

  it('keeps the chunks after an insertion near the start (boundary stability)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1_000_000 }),
        fc.integer({ min: 0, max: 2 * SMALL.avgSize }),
        fc.uint8Array({ minLength: 1, maxLength: 8 }),
        (seed, at, inserted) => {
          const { before, after, sharedTail } = insertionEffect(seed, at, inserted);
          // Once a cut point is shared the streams stay in step: all later chunks are equal.
          // Resync usually takes one chunk; with normalized chunking it can take several
          // (geometric tail), so the bound here is loose and the typical case is checked below.
          expect(sharedTail).toBeGreaterThanOrEqual(before.length / 2);
          const afterSet = new Set(after);
          expect(before.filter((h) => afterSet.has(h)).length).toBeGreaterThanOrEqual(sharedTail);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('loses only about one chunk per insertion on average', () => {
    let lost = 0;
    let immediate = 0;
    const cases = 300;
    for (let seed = 0; seed < cases; seed++) {
      const inserted = randomBytes(-seed - 1, 1 + (seed % 8));
      const { before, after } = insertionEffect(seed, (seed * 37) % (2 * SMALL.avgSize), inserted);
      const afterSet = new Set(after);
      const changed = before.filter((h) => !afterSet.has(h)).length;
      lost += changed;
      immediate += changed <= 1 ? 1 : 0;
    }
    expect(lost / cases).toBeLessThan(2.5);
    expect(immediate / cases).toBeGreaterThan(0.7);
  });

  it('cuts differently for a different seed, alike for the same one', () => {
    const data = randomBytes(5, 64 * KiB);
    const a = cutAll(data, SMALL, GEAR_A);
    expect(cutAll(data, SMALL, gearTableFromSeed(new Uint8Array(32).fill(0xa5)))).toEqual(a);
    const b = cutAll(data, SMALL, GEAR_B);
    expect(b).not.toEqual(a);
    // Not just shifted: most cut offsets of one seed are not cut offsets of the other.
    const offsets = (lengths: number[]): number[] => lengths.map((_, i) => lengths.slice(0, i + 1).reduce((s, l) => s + l, 0));
    const bOffsets = new Set(offsets(b));
    const shared = offsets(a).filter((o) => bOffsets.has(o)).length;
    expect(shared / a.length).toBeLessThan(0.2);
  });

  it('averages near avgSize on random data with the default params', () => {
    const total = 64 * MiB;
    const chunker = new StreamChunker(DEFAULT_CHUNKER_PARAMS, GEAR_A);
    const lengths: number[] = [];
    const piece = 4 * MiB;
    for (let off = 0, n = 0; off < total; off += piece, n++) {
      lengths.push(...chunker.push(randomBytes(1000 + n, piece)).map((c) => c.length));
    }
    lengths.push(...chunker.finish().map((c) => c.length));
    expect(lengths.reduce((s, l) => s + l, 0)).toBe(total);
    const mean = total / lengths.length;
    expect(mean).toBeGreaterThan(0.65 * DEFAULT_CHUNKER_PARAMS.avgSize);
    expect(mean).toBeLessThan(1.35 * DEFAULT_CHUNKER_PARAMS.avgSize);
    expect(Math.max(...lengths)).toBeLessThanOrEqual(DEFAULT_CHUNKER_PARAMS.maxSize);
  });
});

/** First entries of gearTableFromSeed(32 zero bytes). */
const GOLDEN_GEAR_ZERO_SEED_HEAD = [3483016706, 1458128828, 830412099, 1829990584];
/** Chunk lengths of randomBytes(1, 64 KiB)[0..4 KiB) with SMALL params and GEAR_A. */
const GOLDEN_SMALL_LENGTHS = [260, 287, 112, 288, 118, 269, 232, 166, 282, 326, 266, 212, 483, 71, 287, 382, 55];
