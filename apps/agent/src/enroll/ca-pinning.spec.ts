import { X509Certificate } from 'node:crypto';
import { TestCa } from '../test-support/test-pki';
import { caFingerprint, findPinnedCa } from './ca-pinning';

let ca: TestCa;
let other: TestCa;
let leaf: X509Certificate;
let caCert: X509Certificate;

beforeAll(async () => {
  ca = await TestCa.create();
  other = await TestCa.create('other');
  leaf = new X509Certificate((await ca.issueServer()).certPem);
  caCert = new X509Certificate(ca.pem);
});

describe('CA pinning', () => {
  test("the fingerprint is the token's: SHA-256 of the DER, base64url", () => {
    expect(caFingerprint(caCert)).toBe(ca.fingerprint);
    expect(caFingerprint(caCert)).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  test('finds the pinned CA when it signed the server certificate', () => {
    expect(findPinnedCa([leaf, caCert], ca.fingerprint)?.raw.equals(caCert.raw)).toBe(true);
  });

  test('refuses a chain without the pinned CA', () => {
    expect(findPinnedCa([leaf, caCert], other.fingerprint)).toBeUndefined();
    expect(findPinnedCa([leaf], ca.fingerprint)).toBeUndefined();
    expect(findPinnedCa([], ca.fingerprint)).toBeUndefined();
  });

  test('refuses the pinned CA presented next to a server certificate it did not sign', async () => {
    const stranger = new X509Certificate((await other.issueServer()).certPem);
    expect(findPinnedCa([stranger, caCert], ca.fingerprint)).toBeUndefined();
  });

  test('refuses a server that presents only a leaf whose fingerprint is the pin (it is no CA)', () => {
    expect(findPinnedCa([leaf], caFingerprint(leaf))).toBeUndefined();
  });
});
