import { randomBytes } from 'node:crypto';
import { IntegrityError, NONCE_BYTES, open, seal, sealInto, TAG_BYTES } from './envelope';

describe('seal / sealInto', () => {
  const key = randomBytes(32);

  test('every sealed object gets its own nonce, across refills of the nonce pool', () => {
    const plaintext = Buffer.from('the same plaintext every time');
    const nonces = new Set<string>();
    const dest = Buffer.alloc(plaintext.length + NONCE_BYTES + TAG_BYTES);
    for (let i = 0; i < 1_000; i++) {
      const boxed = i % 2 ? seal(key, [plaintext]) : dest.subarray(0, sealInto(dest, 0, key, [plaintext]));
      nonces.add(boxed.subarray(0, NONCE_BYTES).toString('hex'));
      expect(open(key, boxed)).toEqual(plaintext);
    }
    expect(nonces.size).toBe(1_000);
  });

  test('a nonce handed out once is not changed by later seals', () => {
    const first = seal(key, [Buffer.from('a')]);
    const copy = Buffer.from(first);
    for (let i = 0; i < 400; i++) seal(key, [Buffer.from('b')]);
    expect(first).toEqual(copy);
    expect(open(key, first)).toEqual(Buffer.from('a'));
  });

  test('a flipped byte fails authentication', () => {
    const boxed = seal(key, [Buffer.from('data')], Buffer.from('aad'));
    boxed[NONCE_BYTES] ^= 1;
    expect(() => open(key, boxed, Buffer.from('aad'), 'blob x')).toThrow(new IntegrityError('blob x failed authentication (corrupted, or written with another key)'));
  });
});
