import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import type { AppConfig } from '../config/app-config';
import { SecretBox, SecretBoxError } from './secret-box';

const box = (key = randomBytes(32)) => new SecretBox({ masterKey: key } as AppConfig);

describe('SecretBox', () => {
  it('opens what it sealed, for any bytes and context', () => {
    const secrets = box();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), fc.string(), (bytes, context) => {
        expect(secrets.open(secrets.seal(Buffer.from(bytes), context), context)).toEqual(Buffer.from(bytes));
      }),
    );
  });

  it('round-trips JSON and never stores the plaintext', () => {
    const secrets = box();
    const sealed = secrets.sealJson({ password: 'hunter2-hunter2', environment: { AWS_SECRET: 'abc' } }, 'main');
    expect(sealed.toString('latin1')).not.toContain('hunter2');
    expect(secrets.openJson(sealed, 'main')).toEqual({ password: 'hunter2-hunter2', environment: { AWS_SECRET: 'abc' } });
  });

  it('uses a fresh nonce each time', () => {
    const secrets = box();
    expect(secrets.seal(Buffer.from('same'), 'x')).not.toEqual(secrets.seal(Buffer.from('same'), 'x'));
  });

  it('detects any altered byte', () => {
    const secrets = box();
    const sealed = secrets.seal(Buffer.from('repository password'), 'main');
    for (let i = 0; i < sealed.length; i++) {
      const altered = Buffer.from(sealed);
      altered[i] ^= 0x01;
      expect(() => secrets.open(altered, 'main')).toThrow(SecretBoxError);
    }
    expect(() => secrets.open(sealed.subarray(0, sealed.length - 1), 'main')).toThrow(SecretBoxError);
    expect(() => secrets.open(Buffer.alloc(5), 'main')).toThrow(SecretBoxError);
  });

  it('refuses another context (a value copied to another repository) and another key', () => {
    const key = randomBytes(32);
    const sealed = box(key).seal(Buffer.from('secret'), 'main');
    expect(() => box(key).open(sealed, 'other')).toThrow(SecretBoxError);
    expect(() => box().open(sealed, 'main')).toThrow('does not open with this master key');
  });
});
