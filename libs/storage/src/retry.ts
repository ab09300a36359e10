import { setTimeout as sleep } from 'node:timers/promises';
import { StorageError } from './storage';

/** How often and how patiently a driver retries a call that failed transiently. */
export interface RetryPolicy {
  /** Tries in all, the first included; at least 1. */
  attempts: number;
  /** Delay before the first retry; doubles on each retry up to maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
}

/**
 * Bounded: about 30 s of waiting in all before the error reaches the caller, enough to ride
 * out a throttling burst or a load-balancer restart, short enough that a dead service fails a job.
 */
export const DEFAULT_RETRY_POLICY: RetryPolicy = { attempts: 7, baseDelayMs: 250, maxDelayMs: 8000 };

/**
 * Runs `call`, retrying transient StorageErrors (`permanent === false`) with exponential
 * backoff and full jitter, so many writers that failed together do not retry together.
 * Permanent errors and non-StorageErrors are thrown at once. The last error is thrown with
 * how many tries were made, so a message says the storage was given a fair chance.
 * Only idempotent calls may be retried: every Storage call is (see storage.ts).
 */
export async function withRetries<T>(call: () => Promise<T>, policy: RetryPolicy = DEFAULT_RETRY_POLICY, signal?: AbortSignal): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      if (!(err instanceof StorageError) || err.permanent) throw err;
      if (attempt >= policy.attempts) {
        throw new StorageError(`${err.message} (gave up after ${attempt} tries)`, false, err.objectName, { cause: err });
      }
      const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
      await sleep(Math.random() * ceiling, undefined, { signal });
    }
  }
}
