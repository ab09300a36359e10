import { DEFAULT_RETRY_POLICY, withRetries } from './retry';
import { NotFoundError, StorageError } from './storage';

const fast = { attempts: 3, baseDelayMs: 1, maxDelayMs: 2 };

describe('withRetries', () => {
  it('retries transient errors until the call succeeds', async () => {
    let calls = 0;
    const result = await withRetries(async () => {
      if (++calls < 3) throw new StorageError('503 from s3:http://h/b for data/ab', false, 'data/ab');
      return 'ok';
    }, fast);
    expect(result).toBe('ok');
    expect(calls).toBe(3);
  });

  it('gives up after the bounded number of tries, naming the object and the tries', async () => {
    let calls = 0;
    const attempt = withRetries(async () => {
      calls++;
      throw new StorageError('timeout talking to s3:http://h/b while writing data/ab', false, 'data/ab');
    }, fast);
    await expect(attempt).rejects.toThrow('timeout talking to s3:http://h/b while writing data/ab (gave up after 3 tries)');
    await expect(attempt).rejects.toMatchObject({ objectName: 'data/ab', permanent: false });
    expect(calls).toBe(3);
  });

  it('throws permanent errors and foreign errors at once', async () => {
    let calls = 0;
    await expect(withRetries(async () => {
      calls++;
      throw new NotFoundError('s3:http://h/b', 'config');
    }, fast)).rejects.toBeInstanceOf(NotFoundError);
    await expect(withRetries(async () => {
      calls++;
      throw new TypeError('bug');
    }, fast)).rejects.toBeInstanceOf(TypeError);
    expect(calls).toBe(2);
  });

  it('waits about 30 s in all by default before giving up', () => {
    let total = 0;
    for (let i = 0; i < DEFAULT_RETRY_POLICY.attempts - 1; i++) total += Math.min(DEFAULT_RETRY_POLICY.maxDelayMs, DEFAULT_RETRY_POLICY.baseDelayMs * 2 ** i);
    expect(total).toBeGreaterThan(15_000);
    expect(total).toBeLessThan(40_000);
  });
});
