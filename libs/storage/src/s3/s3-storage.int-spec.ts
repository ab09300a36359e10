import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { HeadObjectCommandOutput } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { RetryPolicy } from '../retry';
import { AccessDeniedError, AlreadyExistsError, StorageError } from '../storage';
import { describeStorageConformance } from '../test-support/storage-conformance';
import { startFaultyHttpProxy } from '../testing/faulty-http-proxy';
import type { FaultyHttpProxy } from '../testing/faulty-http-proxy';
import { startS3TestServer } from '../testing/s3-test-server';
import type { S3TestServer } from '../testing/s3-test-server';
import { S3Storage } from './s3-storage';
import type { S3StorageOptions } from './s3-storage';
import { collect, failure, sorted } from '../test-support/storage-test-helpers';

/** Tiny delays, so tests of retries take milliseconds. */
const FAST_RETRIES: RetryPolicy = { attempts: 4, baseDelayMs: 5, maxDelayMs: 20 };
const MiB = 1024 * 1024;

let server: S3TestServer;

beforeAll(async () => {
  // Never skipped: without the server these tests fail, with the reason startS3TestServer gives.
  server = await startS3TestServer();
});

afterAll(async () => {
  await server?.stop();
});

describeStorageConformance('S3Storage (s3rver)', async () => ({
  storage: new S3Storage(server.location(uniquePrefix()), server.env, { retryPolicy: FAST_RETRIES }),
  // Each test has a prefix of its own; the server's directory goes at the end.
  cleanup: async () => undefined,
}));

describe('S3Storage', () => {
  const open = (env: NodeJS.ProcessEnv = server.env, options: S3StorageOptions = {}, location = server.location(uniquePrefix())) =>
    new S3Storage(location, env, { retryPolicy: FAST_RETRIES, ...options });
  let storage: S3Storage | undefined;

  afterEach(async () => {
    await storage?.close();
    storage = undefined;
  });

  it('names the endpoint, bucket and prefix in its location, and no secret', () => {
    storage = open(server.env, {}, server.location('team/repo'));
    expect(storage.location).toBe(`s3:${server.endpoint}/${server.bucket}/team/repo`);
    expect(storage.location).not.toContain(server.env.AWS_SECRET_ACCESS_KEY);
  });

  it('keeps objects under the prefix, and lists them by their logical names across pages', async () => {
    const prefix = uniquePrefix();
    storage = open(server.env, { listPageSize: 2 }, server.location(prefix));
    const names = ['keys/a', 'keys/b', 'keys/c', 'keys/d', 'keys/e'];
    for (const n of names) await storage.put(n, Buffer.from(n));
    expect(sorted(await collect(storage.list('keys')))).toEqual(names.map((name) => ({ name, size: 6 })));
    expect((await headObject(`${prefix}/keys/a`)).ContentLength).toBe(6);
  });

  it('fails on first use, without a request, when there are no credentials, saying what to set', async () => {
    const proxy = await startFaultyHttpProxy(server.endpoint);
    try {
      storage = open({ AWS_REGION: 'us-east-1' }, {}, proxyLocation(proxy));
      const err = await failure<StorageError>(storage.get('config'));
      expect(err).toBeInstanceOf(StorageError);
      expect(err.permanent).toBe(true);
      expect(err.message).toContain(storage.location);
      expect(err.message).toContain('config');
      expect(err.message).toMatch(/no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.*or AWS_PROFILE/);
      expect(proxy.requests).toBe(0);
    } finally {
      await proxy.stop();
    }
  });

  describe('with a profile in a shared credentials file named by the env map', () => {
    let dir: string;
    let credentialsFile: string;

    beforeAll(async () => {
      dir = await mkdtemp(path.join(tmpdir(), 'coffer-s3-profile-'));
      credentialsFile = path.join(dir, 'credentials');
      await writeFile(
        credentialsFile,
        `[backup]\naws_access_key_id = ${server.env.AWS_ACCESS_KEY_ID}\naws_secret_access_key = ${server.env.AWS_SECRET_ACCESS_KEY}\n`,
      );
    });

    afterAll(() => rm(dir, { recursive: true, force: true }));

    it('signs with that profile', async () => {
      const env = { AWS_PROFILE: 'backup', AWS_SHARED_CREDENTIALS_FILE: credentialsFile, AWS_CONFIG_FILE: path.join(dir, 'none') };
      storage = open(env);
      await storage.put('config', Buffer.from('via profile'));
      expect((await storage.get('config')).toString()).toBe('via profile');
    });

    it('fails permanently for a profile the file lacks, naming the object', async () => {
      storage = open({ AWS_PROFILE: 'nobody', AWS_SHARED_CREDENTIALS_FILE: credentialsFile, AWS_CONFIG_FILE: path.join(dir, 'none') });
      const err = await failure<StorageError>(storage.get('config'));
      expect(err.permanent).toBe(true);
      expect(err.message).toContain(`${storage.location}: get config failed`);
      expect(err.message).toContain('nobody');
    });
  });

  it('refuses an unknown access key as AccessDeniedError', async () => {
    storage = open({ AWS_ACCESS_KEY_ID: 'UNKNOWN', AWS_SECRET_ACCESS_KEY: 'x' });
    const err = await failure<StorageError>(storage.put('config', Buffer.from('x')));
    expect(err).toBeInstanceOf(AccessDeniedError);
    expect(err.message).toContain('403 InvalidAccessKeyId');
  });

  it('uploads an object above the threshold in parts, whole, with the storage class', async () => {
    const prefix = uniquePrefix();
    const proxy = await startFaultyHttpProxy(server.endpoint);
    try {
      const env = { ...server.env, COFFER_S3_STORAGE_CLASS: 'STANDARD_IA' };
      storage = open(env, { multipartThreshold: 6 * MiB, multipartPartSize: 5 * MiB }, proxyLocation(proxy, prefix));
      const data = randomBytes(12 * MiB + 123);
      // The second part fails once: it alone is sent again.
      proxy.fail({ method: 'PUT', path: /partNumber=2/, status: 500 });
      await storage.put('data/big', data);
      expect((await storage.get('data/big')).equals(data)).toBe(true);
      // Create, three parts, one of them twice, complete; then the get.
      expect(proxy.requests).toBe(7);
      expect((await headObject(`${prefix}/data/big`)).StorageClass).toBe('STANDARD_IA');
    } finally {
      await proxy.stop();
    }
  });

  it('gives up a multipart upload whose part keeps failing, leaving no object', async () => {
    const proxy = await startFaultyHttpProxy(server.endpoint);
    try {
      storage = open(server.env, { multipartThreshold: 6 * MiB, multipartPartSize: 5 * MiB }, proxyLocation(proxy));
      proxy.fail({ method: 'PUT', path: /partNumber=3/, status: 503, times: Infinity });
      const err = await failure<StorageError>(storage.put('data/big', randomBytes(11 * MiB)));
      expect(err.permanent).toBe(false);
      expect(err.message).toMatch(/put data\/big failed: 503 SlowDown.*gave up after 4 tries/);
      proxy.clear();
      expect(await storage.exists('data/big')).toBe(false);
    } finally {
      await proxy.stop();
    }
  });

  it('gives data/ objects the configured storage class and keeps metadata STANDARD', async () => {
    const prefix = uniquePrefix();
    storage = open({ ...server.env, COFFER_S3_STORAGE_CLASS: 'STANDARD_IA' }, {}, server.location(prefix));
    await storage.put('data/0123', Buffer.from('pack'));
    await storage.put('index/4567', Buffer.from('index'));
    await storage.put('config', Buffer.from('config'));
    expect((await headObject(`${prefix}/data/0123`)).StorageClass).toBe('STANDARD_IA');
    // S3 reports no class for STANDARD objects.
    expect((await headObject(`${prefix}/index/4567`)).StorageClass).toBeUndefined();
    expect((await headObject(`${prefix}/config`)).StorageClass).toBeUndefined();
  });

  it('falls back to HEAD-then-PUT where conditional writes are not implemented', async () => {
    const proxy = await startFaultyHttpProxy(server.endpoint);
    try {
      storage = open(server.env, {}, proxyLocation(proxy));
      proxy.fail({ method: 'PUT', status: 501 });
      await storage.put('config', Buffer.from('first'), { exclusive: true });
      expect(await failure<StorageError>(storage.put('config', Buffer.from('second'), { exclusive: true }))).toBeInstanceOf(AlreadyExistsError);
      expect((await storage.get('config')).toString()).toBe('first');
    } finally {
      await proxy.stop();
    }
  });

  describe('through a faulty proxy', () => {
    let proxy: FaultyHttpProxy;

    beforeEach(async () => {
      proxy = await startFaultyHttpProxy(server.endpoint);
      storage = open(server.env, { idleTimeoutMs: 300 }, proxyLocation(proxy));
    });

    afterEach(async () => {
      await storage?.close();
      await proxy.stop();
    });

    it('retries 500s and succeeds', async () => {
      proxy.fail({ method: 'PUT', status: 500, times: 2 });
      await storage!.put('keys/k', Buffer.from('key'));
      expect(proxy.requests).toBe(3);
      expect((await storage!.get('keys/k')).toString()).toBe('key');
    });

    it('gives up after the policy, naming the location, the object and the tries', async () => {
      proxy.fail({ method: 'PUT', status: 500, times: Infinity });
      const name = `data/${randomBytes(32).toString('hex')}`;
      const err = await failure<StorageError>(storage!.put(name, Buffer.from('x')));
      expect(err.permanent).toBe(false);
      expect(err.objectName).toBe(name);
      expect(err.message).toBe(`${storage!.location}: put ${name} failed: 500 InternalError: injected by the faulty HTTP proxy (gave up after 4 tries)`);
      expect(proxy.requests).toBe(4);
    });

    it('sends an upload cut mid-body again, and stores it whole', async () => {
      const data = randomBytes(2 * MiB);
      proxy.fail({ method: 'PUT', dropAfterBodyBytes: 256 * 1024 });
      await storage!.put('data/cut', data);
      expect(proxy.requests).toBe(2);
      expect((await storage!.get('data/cut')).equals(data)).toBe(true);
    });

    it('abandons a request that hangs past the idle timeout, and retries it', async () => {
      await storage!.put('snapshots/s', Buffer.from('snapshot'));
      proxy.fail({ method: 'GET', hang: true });
      expect((await storage!.get('snapshots/s')).toString()).toBe('snapshot');
      expect(proxy.requests).toBe(3);
    });

    it('reports a 403 as AccessDeniedError at once, without retrying', async () => {
      proxy.fail({ method: 'DELETE', status: 403, times: Infinity });
      const err = await failure<StorageError>(storage!.delete('locks/l1'));
      expect(err).toBeInstanceOf(AccessDeniedError);
      expect(err.permanent).toBe(true);
      expect(err.message).toBe(`${storage!.location} refused to delete locks/l1: access denied (403 AccessDenied: injected by the faulty HTTP proxy)`);
      expect(proxy.requests).toBe(1);
    });

    it('reports a refused connection as transient once the tries are spent', async () => {
      await proxy.stop();
      const err = await failure<StorageError>(storage!.stat('config'));
      expect(err.permanent).toBe(false);
      expect(err.message).toMatch(/stat config failed: ECONNREFUSED.*\(gave up after 4 tries\)$/);
    });
  });
});

/** HEAD straight to the server, bypassing the driver. */
async function headObject(key: string): Promise<HeadObjectCommandOutput> {
  const client = new S3Client({
    endpoint: server.endpoint,
    region: server.env.AWS_REGION,
    forcePathStyle: true,
    credentials: { accessKeyId: server.env.AWS_ACCESS_KEY_ID, secretAccessKey: server.env.AWS_SECRET_ACCESS_KEY },
  });
  try {
    return await client.send(new HeadObjectCommand({ Bucket: server.bucket, Key: key }));
  } finally {
    client.destroy();
  }
}

function proxyLocation(proxy: FaultyHttpProxy, prefix = uniquePrefix()): string {
  return `s3:${proxy.url}/${server.bucket}/${prefix}`;
}

function uniquePrefix(): string {
  return `t-${randomBytes(6).toString('hex')}`;
}

