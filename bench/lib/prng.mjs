// Seeded PRNG for the benchmark dataset.
//
// Everything here is 32-bit integer math on purpose: BigInt-based 64-bit
// generators (splitmix64, xoshiro256) are an order of magnitude slower in V8,
// and the dataset needs hundreds of millions of draws to be generated in
// seconds. Quality only has to be good enough that text "looks" varied and the
// random blob does not compress; xorshift128 is plenty for that.

/** murmur3 finaliser: spreads a 32-bit value so nearby seeds give unrelated streams. */
export function fmix32(h) {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Derives an independent 32-bit seed from the master seed and a path of
 * labels/indices. Each dataset item gets its own stream so any single item
 * (one small file, the log, the dump...) can be regenerated on its own and
 * still come out byte-identical — that is what makes the "repair after
 * mutation" step cheap.
 */
export function deriveSeed(seed, ...parts) {
  let h = fmix32((seed >>> 0) ^ 0x9e3779b9);
  for (const part of parts) {
    if (typeof part === 'number') {
      h = fmix32(h ^ fmix32((part >>> 0) + 0x7f4a7c15));
    } else {
      for (let i = 0; i < part.length; i++) h = fmix32(h ^ (part.charCodeAt(i) + 0x27d4eb2f));
    }
  }
  return h;
}

/** xorshift128 (Marsaglia), seeded through splitmix32 so a zero seed is fine. */
export class Rng {
  constructor(seed) {
    let s = seed >>> 0;
    const next = () => {
      s = (s + 0x9e3779b9) >>> 0;
      return fmix32(s);
    };
    this.x = next();
    this.y = next();
    this.z = next();
    this.w = next() | 1; // state must not be all zero
  }

  /** Uniform uint32. */
  u32() {
    const t = this.x ^ (this.x << 11);
    this.x = this.y;
    this.y = this.z;
    this.z = this.w;
    this.w = (this.w ^ (this.w >>> 19) ^ (t ^ (t >>> 8))) >>> 0;
    return this.w;
  }

  /** Uniform float in [0, 1). */
  float() {
    return this.u32() / 4294967296;
  }

  /** Uniform integer in [0, n). n must be ≤ 2^32. */
  below(n) {
    return Math.floor(this.float() * n);
  }

  /** Uniform integer in [lo, hi]. */
  range(lo, hi) {
    return lo + this.below(hi - lo + 1);
  }

  /** Random element of an array. */
  pick(arr) {
    return arr[this.below(arr.length)];
  }

  /**
   * Fills a Uint32Array with random words. The xorshift step is inlined
   * because this is the hot loop for the incompressible blob (75M words at
   * scale 1) and a method call per word costs ~3x.
   */
  fill(u32arr) {
    let { x, y, z, w } = this;
    for (let i = 0; i < u32arr.length; i++) {
      const t = x ^ (x << 11);
      x = y;
      y = z;
      z = w;
      w = (w ^ (w >>> 19) ^ (t ^ (t >>> 8))) >>> 0;
      u32arr[i] = w;
    }
    this.x = x;
    this.y = y;
    this.z = z;
    this.w = w;
  }
}
