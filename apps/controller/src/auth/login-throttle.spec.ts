import { DEFAULT_THROTTLE_LIMITS, LoginThrottle } from './login-throttle';

function throttleAt(start = 1_000_000) {
  const clock = { now: start };
  const throttle = new LoginThrottle(DEFAULT_THROTTLE_LIMITS, () => clock.now);
  return { throttle, clock };
}

describe('LoginThrottle', () => {
  const keys = ['user:admin', 'ip:10.0.0.1'];

  it('lets 5 failures through, with a growing delay, then locks out for 30 s', () => {
    const { throttle } = throttleAt();
    const delays: number[] = [];
    for (let i = 0; i < 5; i++) {
      expect(throttle.retryAfterSeconds(keys)).toBe(0);
      delays.push(throttle.recordFailure(keys));
    }
    expect(delays).toEqual([100, 200, 300, 400, 500]);
    expect(throttle.retryAfterSeconds(keys)).toBe(30);
  });

  it('grows the lock-out with each failure after one ends, up to 15 minutes', () => {
    const { throttle, clock } = throttleAt();
    for (let i = 0; i < 5; i++) throttle.recordFailure(keys);
    const waits: number[] = [];
    for (let i = 0; i < 8; i++) {
      const wait = throttle.retryAfterSeconds(keys);
      waits.push(wait);
      clock.now += wait * 1000; // wait it out, then fail again
      throttle.recordFailure(keys);
    }
    expect(waits).toEqual([30, 60, 120, 240, 480, 900, 900, 900]);
  });

  it('caps the added delay at one second', () => {
    const { throttle } = throttleAt();
    const delays = Array.from({ length: 15 }, () => throttle.recordFailure(keys));
    expect(delays.slice(8)).toEqual([900, 1000, 1000, 1000, 1000, 1000, 1000]);
  });

  it('counts user names and client addresses separately', () => {
    const { throttle } = throttleAt();
    for (let i = 0; i < 5; i++) throttle.recordFailure(['user:admin', `ip:10.0.0.${i}`]);
    expect(throttle.retryAfterSeconds(['user:admin', 'ip:10.0.0.99'])).toBe(30);
    expect(throttle.retryAfterSeconds(['user:other', 'ip:10.0.0.1'])).toBe(0);
  });

  it('forgets failures older than 15 minutes', () => {
    const { throttle, clock } = throttleAt();
    for (let i = 0; i < 4; i++) throttle.recordFailure(keys);
    clock.now += 15 * 60_000;
    throttle.recordFailure(keys);
    expect(throttle.retryAfterSeconds(keys)).toBe(0);
  });

  it('clears a key on success', () => {
    const { throttle } = throttleAt();
    for (let i = 0; i < 4; i++) throttle.recordFailure(keys);
    throttle.recordSuccess(keys);
    expect(throttle.recordFailure(keys)).toBe(100);
  });

  it('keeps memory bounded under a flood of different names', () => {
    const throttle = new LoginThrottle({ ...DEFAULT_THROTTLE_LIMITS, maxKeys: 100 });
    for (let i = 0; i < 1000; i++) throttle.recordFailure([`user:${i}`]);
    expect(throttle.size).toBeLessThanOrEqual(100);
  });
});
