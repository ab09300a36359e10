import fc from 'fast-check';
import { Backoff } from './backoff';

describe('Backoff', () => {
  test('full jitter: every delay lies in [0, min(cap, base * 2^n))', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 0.9999999, noNaN: true }), { minLength: 1, maxLength: 40 }), (randoms) => {
        let i = 0;
        const backoff = new Backoff({ baseMs: 1000, capMs: 60_000, random: () => randoms[i] });
        for (i = 0; i < randoms.length; i++) {
          const ceiling = Math.min(60_000, 1000 * 2 ** i);
          const delay = backoff.next();
          expect(delay).toBeGreaterThanOrEqual(0);
          expect(delay).toBeLessThan(ceiling);
          expect(delay).toBe(Math.floor(randoms[i] * ceiling));
        }
      }),
    );
  });

  test('the ceiling doubles from 1 s and stops at 60 s', () => {
    const backoff = new Backoff({ random: () => 0.5 });
    const ceilings: number[] = [];
    for (let i = 0; i < 10; i++) {
      ceilings.push(backoff.ceilingMs());
      backoff.next();
    }
    expect(ceilings).toEqual([1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000, 60000]);
  });

  test('never overflows after very many failures', () => {
    const backoff = new Backoff({ random: () => 0.999 });
    for (let i = 0; i < 10_000; i++) backoff.next();
    expect(backoff.next()).toBe(Math.floor(0.999 * 60_000));
  });

  test('reset() starts over from the base', () => {
    const backoff = new Backoff({ random: () => 0.999 });
    for (let i = 0; i < 8; i++) backoff.next();
    backoff.reset();
    expect(backoff.ceilingMs()).toBe(1000);
    expect(backoff.next()).toBeLessThan(1000);
  });

  test('uses Math.random by default, within bounds', () => {
    const backoff = new Backoff();
    for (let i = 0; i < 100; i++) {
      const ceiling = backoff.ceilingMs();
      const delay = backoff.next();
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThan(ceiling);
    }
  });
});
