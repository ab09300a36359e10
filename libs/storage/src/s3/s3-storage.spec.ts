import { openStorage } from '../open-storage';
import { StorageError } from '../storage';
import { S3Storage } from './s3-storage';

const KEYS = { AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret' };

describe('S3Storage', () => {
  afterEach(() => {
    jest.dontMock('@aws-sdk/client-s3');
  });

  it('is what openStorage opens for s3: locations, reading the env map it is given', () => {
    const storage = openStorage('s3:https://s3.eu-west-1.amazonaws.com/bucket/repo', { env: KEYS });
    expect(storage).toBeInstanceOf(S3Storage);
    expect(storage.location).toBe('s3:https://s3.eu-west-1.amazonaws.com/bucket/repo');
    expect(() => openStorage('s3:https://host/bucket', { env: { ...KEYS, COFFER_S3_ADDRESSING: 'dns' } })).toThrow(StorageError);
  });

  it('loads the AWS SDK on the first call, not when opened', async () => {
    let loaded = false;
    jest.doMock('@aws-sdk/client-s3', () => {
      loaded = true;
      return jest.requireActual('@aws-sdk/client-s3');
    });
    await jest.isolateModulesAsync(async () => {
      const { S3Storage: FreshS3Storage } = await import('./s3-storage');
      // Nothing listens on port 1: the call fails, after loading the SDK to make it.
      const storage = new FreshS3Storage('s3:http://127.0.0.1:1/bucket/repo', KEYS, { retryPolicy: { attempts: 1, baseDelayMs: 0, maxDelayMs: 0 } });
      expect(loaded).toBe(false);
      await expect(storage.exists('config')).rejects.toThrow(/s3:http:\/\/127\.0\.0\.1:1\/bucket\/repo: stat config failed: ECONNREFUSED/);
      expect(loaded).toBe(true);
      await storage.close();
    });
  });

  it("refuses a part size below S3's minimum", () => {
    expect(() => new S3Storage('s3:http://127.0.0.1:1/bucket', KEYS, { multipartPartSize: 1024 })).toThrow(/below S3's minimum/);
  });
});
