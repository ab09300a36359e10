/** How failed logins are slowed down. */
export interface ThrottleLimits {
  /** Failures within `windowMs` that lock a key out. */
  maxFailures: number;
  windowMs: number;
  /** First lock-out; each further one (while failures keep coming) doubles, up to `maxLockMs`. */
  baseLockMs: number;
  maxLockMs: number;
  /** Delay added to the answer of a failed attempt: `delayStepMs` × failures so far, up to `maxDelayMs`. */
  delayStepMs: number;
  maxDelayMs: number;
  /** Keys tracked at most; beyond it the stalest are forgotten (a flood of random names cannot exhaust memory). */
  maxKeys: number;
}

/** 5 failures in 15 minutes lock a user name or client address out for 30 s, then 1 min, 2 min, … up to 15 min. */
export const DEFAULT_THROTTLE_LIMITS: ThrottleLimits = {
  maxFailures: 5,
  windowMs: 15 * 60_000,
  baseLockMs: 30_000,
  maxLockMs: 15 * 60_000,
  delayStepMs: 100,
  maxDelayMs: 1_000,
  maxKeys: 10_000,
};

interface KeyState {
  /** Times of the failures still inside the window, oldest first. */
  failures: number[];
  lockedUntil: number;
  lockouts: number;
}

/**
 * Counts failed logins per key (a user name, a client address) in this process. A key with
 * too many recent failures is locked out for a growing time; attempts while locked out are
 * refused without checking the password and are not counted.
 */
export class LoginThrottle {
  private readonly keys = new Map<string, KeyState>();

  constructor(
    private readonly limits: ThrottleLimits = DEFAULT_THROTTLE_LIMITS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whole seconds until every one of `keys` may try again; 0 when none is locked out. */
  retryAfterSeconds(keys: string[]): number {
    const now = this.now();
    let waitMs = 0;
    for (const key of keys) waitMs = Math.max(waitMs, (this.keys.get(key)?.lockedUntil ?? 0) - now);
    return waitMs > 0 ? Math.ceil(waitMs / 1000) : 0;
  }

  /** Records a failed attempt for each key; returns how long (ms) to hold back the answer. */
  recordFailure(keys: string[]): number {
    const now = this.now();
    let delayMs = 0;
    for (const key of keys) {
      const state = this.current(key, now) ?? { failures: [], lockedUntil: 0, lockouts: 0 };
      state.failures.push(now);
      // Once locked out, every further failure while the record lasts locks out again, for longer.
      if (state.failures.length >= this.limits.maxFailures || state.lockouts > 0) {
        state.lockouts += 1;
        state.lockedUntil = now + Math.min(this.limits.maxLockMs, this.limits.baseLockMs * 2 ** (state.lockouts - 1));
      }
      this.keys.delete(key); // re-insert: the map stays ordered by last activity
      this.keys.set(key, state);
      delayMs = Math.max(delayMs, Math.min(this.limits.maxDelayMs, this.limits.delayStepMs * state.failures.length));
    }
    this.evictStale(now);
    return delayMs;
  }

  /** A successful login clears the record of its keys. */
  recordSuccess(keys: string[]): void {
    for (const key of keys) this.keys.delete(key);
  }

  /** The key's state with expired failures dropped; undefined once nothing of it matters any more. */
  private current(key: string, now: number): KeyState | undefined {
    const state = this.keys.get(key);
    if (!state) return undefined;
    state.failures = state.failures.filter((at) => now - at < this.limits.windowMs);
    // A lock-out is remembered for a window after it ends, so the next one is longer.
    if (state.failures.length === 0 && state.lockedUntil + this.limits.windowMs <= now) {
      this.keys.delete(key);
      return undefined;
    }
    return state;
  }

  private evictStale(now: number): void {
    if (this.keys.size <= this.limits.maxKeys) return;
    for (const key of [...this.keys.keys()]) this.current(key, now);
    // Still too many: forget the least recently active.
    for (const key of this.keys.keys()) {
      if (this.keys.size <= this.limits.maxKeys) break;
      this.keys.delete(key);
    }
  }

  /** Keys tracked (for tests and metrics). */
  get size(): number {
    return this.keys.size;
  }
}
