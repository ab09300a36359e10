import { randomBytes } from 'node:crypto';
import { compress } from 'zstd-napi';
import { contentId, IntegrityError, seal } from '../crypto/envelope';
import { BlobOpener, BlobSealer } from './blob-codec';

describe('BlobSealer / BlobOpener', () => {
  const idKey = randomBytes(32);
  const packKey = randomBytes(32);
  const sealer = new BlobSealer(packKey, 3);
  const text = (n: number) => Buffer.from('a line of a log file that compresses well\n'.repeat(n));

  test.each([false, true])('round trip of compressed and raw blobs (reuseOutput %s), each result right when taken', (reuseOutput) => {
    const opener = new BlobOpener(idKey, reuseOutput);
    const blobs = [text(1000), randomBytes(5000), text(10), Buffer.alloc(0), text(20_000), text(3)];
    for (const blob of blobs) {
      const id = contentId(idKey, blob);
      expect(opener.open(packKey, id, sealer.seal(id, blob), blob.length, 'blob')).toEqual(blob);
    }
  });

  test('a reused output is only valid until the next open; a fresh one stays', () => {
    const [a, b] = [text(100), Buffer.from(text(100).toString().toUpperCase())];
    const [idA, idB] = [contentId(idKey, a), contentId(idKey, b)];
    const reusing = new BlobOpener(idKey, true);
    const fresh = new BlobOpener(idKey);
    const first = fresh.open(packKey, idA, sealer.seal(idA, a), a.length, 'a');
    fresh.open(packKey, idB, sealer.seal(idB, b), b.length, 'b');
    expect(first).toEqual(a);
    const reused = reusing.open(packKey, idA, sealer.seal(idA, a), a.length, 'a');
    reusing.open(packKey, idB, sealer.seal(idB, b), b.length, 'b');
    expect(reused).toEqual(b);
  });

  test('a sealed payload that is not zstd, or inflates past its length, does not decompress', () => {
    const plain = text(100);
    const id = contentId(idKey, plain);
    const opener = new BlobOpener(idKey, true);
    const garbage = seal(packKey, [Buffer.of(1), randomBytes(200)], id);
    expect(() => opener.open(packKey, id, garbage, plain.length, 'blob x')).toThrow(new IntegrityError('blob x does not decompress'));
    const tooLong = seal(packKey, [Buffer.of(1), compress(Buffer.concat([plain, plain]))], id);
    expect(() => opener.open(packKey, id, tooLong, plain.length, 'blob y')).toThrow(new IntegrityError('blob y does not decompress'));
  });

  test('a blob whose content does not hash to its id is refused', () => {
    const plain = text(100);
    const otherId = contentId(idKey, Buffer.from('something else'));
    const sealed = sealer.seal(otherId, plain);
    expect(() => new BlobOpener(idKey).open(packKey, otherId, sealed, plain.length, 'blob z')).toThrow(new IntegrityError('blob z does not match its id (corrupted)'));
  });
});
