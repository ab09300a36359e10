/** Settings of a Backoff. */
export interface BackoffOptions {
  baseMs?: number;
  capMs?: number;
  /** Uniform in [0, 1); injectable for tests. */
  random?: () => number;
}

/**
 * Exponential backoff with full jitter: the n-th delay in a row (n from 0) is uniform in
 * [0, min(cap, base * 2^n)). Full jitter spreads a fleet's reconnects after a controller
 * restart instead of having every agent knock at the same instants (AWS Architecture
 * Blog, "Exponential Backoff And Jitter").
 */
export class Backoff {
  private attempt = 0;
  private readonly baseMs: number;
  private readonly capMs: number;
  private readonly random: () => number;

  constructor(options: BackoffOptions = {}) {
    this.baseMs = options.baseMs ?? 1_000;
    this.capMs = options.capMs ?? 60_000;
    this.random = options.random ?? Math.random;
  }

  /** The ceiling of the next delay (before jitter). */
  ceilingMs(): number {
    // 2^attempt overflows nothing: the exponent stops growing once the cap is reached.
    return Math.min(this.capMs, this.baseMs * 2 ** Math.min(this.attempt, 30));
  }

  /** The next delay, in ms; each call counts one more failure in a row. */
  next(): number {
    const delay = Math.floor(this.random() * this.ceilingMs());
    this.attempt++;
    return delay;
  }

  /** After a connection that lasted: the next failure starts from the base again. */
  reset(): void {
    this.attempt = 0;
  }
}
