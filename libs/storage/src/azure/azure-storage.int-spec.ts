import { randomBytes } from 'node:crypto';
import * as http from 'node:http';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import {
  AccountSASPermissions,
  AccountSASResourceTypes,
  AccountSASServices,
  SASProtocol,
  StorageSharedKeyCredential,
  generateAccountSASQueryParameters,
} from '@azure/storage-blob';
import type { RetryPolicy } from '../retry';
import { AccessDeniedError, AlreadyExistsError, NotFoundError, StorageError } from '../storage';
import { describeStorageConformance } from '../test-support/storage-conformance';
import { startAzuriteTestServer } from '../testing/azurite-test-server';
import type { AzuriteTestServer } from '../testing/azurite-test-server';
import { startFaultyHttpProxy } from '../testing/faulty-http-proxy';
import { AzureStorage, ContainerNotFoundError, openAzureStorage } from './azure-storage';
import type { AzureStorageOptions } from './azure-storage';
import { collect, failure } from '../test-support/storage-test-helpers';

/** Retries fast, so tests of giving up take milliseconds. */
const QUICK_RETRIES: RetryPolicy = { attempts: 3, baseDelayMs: 1, maxDelayMs: 5 };

/** Would take minutes to exhaust: a test finishing quickly shows the error was not retried. */
const PATIENT_RETRIES: RetryPolicy = { attempts: 5, baseDelayMs: 60_000, maxDelayMs: 60_000 };

let server: AzuriteTestServer;

beforeAll(async () => {
  server = await startAzuriteTestServer();
});

afterAll(async () => {
  await server?.stop();
});

describeStorageConformance('AzureStorage on Azurite', async () => {
  const prefix = freshPrefix();
  return { storage: openAzureStorage(server.location(prefix), server.env), cleanup: () => deleteUnder(prefix) };
});

describe('AzureStorage on Azurite', () => {
  const open = (prefix: string, options?: AzureStorageOptions, env = server.env) => new AzureStorage(server.location(prefix), env, options);

  it('stores objects as block blobs named PREFIX/<name> and lists logical names', async () => {
    const prefix = `${freshPrefix()}/nested`;
    const storage = open(prefix);
    await storage.put('keys/k1', Buffer.from('key'));
    await storage.put('config', Buffer.from('config'));
    expect(await blobNames(prefix)).toEqual([`${prefix}/config`, `${prefix}/keys/k1`]);
    expect(await collect(storage.list('keys'))).toEqual([{ name: 'keys/k1', size: 3 }]);
    await storage.close();
  });

  it('lists past the first page', async () => {
    const storage = open(freshPrefix(), { listPageSize: 5 });
    const names = Array.from({ length: 12 }, (_, i) => `locks/${String(i).padStart(2, '0')}`);
    await Promise.all(names.map((n) => storage.put(n, Buffer.from(n))));
    expect((await collect(storage.list('locks'))).map((o) => o.name).sort()).toEqual(names);
    await storage.close();
  });

  describe('a large object', () => {
    const blockSizeBytes = 1024 * 1024;
    const data = randomBytes(5 * blockSizeBytes + 12345);

    it('is written in several blocks, committed as one blob, and read back whole and in ranges', async () => {
      const prefix = freshPrefix();
      const storage = open(prefix, { blockSizeBytes });
      await storage.put('data/big', data);
      const blob = server.serviceClient().getContainerClient(server.container).getBlockBlobClient(`${prefix}/data/big`);
      const blocks = await blob.getBlockList('all');
      expect(blocks.committedBlocks).toHaveLength(6);
      expect(blocks.uncommittedBlocks).toHaveLength(0);
      expect((await storage.get('data/big')).equals(data)).toBe(true);
      const across = await storage.getRange('data/big', blockSizeBytes - 10, 20);
      expect(across.equals(data.subarray(blockSizeBytes - 10, blockSizeBytes + 10))).toBe(true);
      await storage.close();
    });

    it('is refused by an exclusive put of a taken name, leaving the object as it was', async () => {
      const storage = open(freshPrefix(), { blockSizeBytes });
      await storage.put('locks/big', Buffer.from('holder'));
      expect(await failure(storage.put('locks/big', data, { exclusive: true }))).toBeInstanceOf(AlreadyExistsError);
      expect((await storage.get('locks/big')).toString()).toBe('holder');
      await storage.close();
    });

    it('survives concurrent writers of the same name', async () => {
      const storage = open(freshPrefix(), { blockSizeBytes });
      await Promise.all(Array.from({ length: 4 }, () => storage.put('data/same', data)));
      expect((await storage.get('data/same')).equals(data)).toBe(true);
      await storage.close();
    });
  });

  describe('credentials', () => {
    it('work as a SAS token, with or without its leading "?"', async () => {
      const prefix = freshPrefix();
      for (const token of [accountSas('rwdlc'), `?${accountSas('rwdlc')}`]) {
        const storage = open(prefix, undefined, { COFFER_AZURE_ENDPOINT: server.endpoint, AZURE_ACCOUNT_SAS: token });
        await storage.put('config', Buffer.from('via SAS'));
        expect((await storage.get('config')).toString()).toBe('via SAS');
        expect(await collect(storage.list('keys'))).toEqual([]);
        await storage.delete('config');
        await storage.close();
      }
    });

    it('a writer SAS without delete rights writes but may not delete (AccessDeniedError)', async () => {
      const storage = open(freshPrefix(), { retryPolicy: PATIENT_RETRIES }, { COFFER_AZURE_ENDPOINT: server.endpoint, AZURE_ACCOUNT_SAS: accountSas('rwlc') });
      await storage.put('locks/l1', Buffer.from('lock'));
      await storage.put('locks/l1', Buffer.from('finished'));
      const err = await failure(storage.delete('locks/l1'));
      expect(err).toBeInstanceOf(AccessDeniedError);
      expect((err as Error).message).toMatch(/^azure:devstoreaccount1\/coffer-test\/\S+ refused to delete locks\/l1: access denied \(HTTP 403 .*credential from AZURE_ACCOUNT_SAS\)$/);
      expect((err as Error).message).not.toMatch(/sig=/);
      expect((await storage.get('locks/l1')).toString()).toBe('finished');
      await storage.close();
    });

    it('a wrong key fails at once with AccessDeniedError naming the location, the object and the variable', async () => {
      const wrongKey = randomBytes(64).toString('base64');
      const storage = open(freshPrefix(), { retryPolicy: PATIENT_RETRIES }, { COFFER_AZURE_ENDPOINT: server.endpoint, AZURE_ACCOUNT_KEY: wrongKey });
      for (const [operation, call] of [
        ['read', () => storage.get('config')],
        ['read', () => storage.stat('config')],
        ['write', () => storage.put('config', Buffer.from('x'))],
        ['list', () => collect(storage.list('keys'))],
      ] as const) {
        const err = await failure(call());
        expect(err).toBeInstanceOf(AccessDeniedError);
        expect((err as StorageError).permanent).toBe(true);
        expect((err as Error).message).toMatch(new RegExp(`azure:devstoreaccount1/coffer-test/\\S+ refused to ${operation} (config|keys): access denied \\(HTTP 403`));
        expect((err as Error).message).toContain('credential from AZURE_ACCOUNT_KEY');
        expect((err as Error).message).not.toContain('gave up');
      }
      await storage.close();
    });
  });

  describe('a missing container', () => {
    const openIn = (container: string, env = server.env) => new AzureStorage(`azure:${server.accountName}/${container}/repo`, env);
    const containerExists = (container: string) => server.serviceClient().getContainerClient(container).exists();

    it('is reported by reads, which do not create it; exists() and delete() see no object', async () => {
      const container = `missing-${randomBytes(4).toString('hex')}`;
      const storage = openIn(container);
      for (const call of [() => storage.get('config'), () => storage.getRange('config', 0, 1), () => storage.stat('config'), () => collect(storage.list('keys'))]) {
        const err = await failure(call());
        expect(err).toBeInstanceOf(ContainerNotFoundError);
        expect((err as StorageError).permanent).toBe(true);
        expect((err as Error).message).toContain(`container "${container}" does not exist in storage account "devstoreaccount1"`);
        expect((err as Error).message).toContain(`azure:devstoreaccount1/${container}/repo`);
      }
      expect(await storage.exists('config')).toBe(false);
      await storage.delete('config');
      expect(await containerExists(container)).toBe(false);
      await storage.close();
    });

    it('is created by the first put, exclusive or not', async () => {
      for (const exclusive of [false, true]) {
        const container = `fresh-${randomBytes(4).toString('hex')}`;
        const storage = openIn(container);
        await storage.put('config', Buffer.from('new repository'), { exclusive });
        expect(await containerExists(container)).toBe(true);
        expect((await storage.get('config')).toString()).toBe('new repository');
        await storage.close();
      }
    });

    it('is created with an account SAS that has rights on containers', async () => {
      const container = `sas-${randomBytes(4).toString('hex')}`;
      const storage = openIn(container, { COFFER_AZURE_ENDPOINT: server.endpoint, AZURE_ACCOUNT_SAS: accountSas('rwlc') });
      await storage.put('config', Buffer.from('x'), { exclusive: true });
      expect(await containerExists(container)).toBe(true);
      await storage.close();
    });

    it('cannot be created with a SAS that may not, and the error says so', async () => {
      const container = `nosas-${randomBytes(4).toString('hex')}`;
      // Object-level rights only: no container operations.
      const storage = openIn(container, { COFFER_AZURE_ENDPOINT: server.endpoint, AZURE_ACCOUNT_SAS: accountSas('rwlc', 'o') });
      const err = await failure(storage.put('config', Buffer.from('x')));
      expect(err).toBeInstanceOf(AccessDeniedError);
      expect((err as Error).message).toContain(`refused to create container "${container}" (it does not exist) to write config`);
      expect(await containerExists(container)).toBe(false);
      await storage.close();
    });
  });

  describe('transient failures', () => {
    it('are retried until the call succeeds', async () => {
      const proxy = await startFaultyHttpProxy(server.endpoint);
      try {
        const env = { AZURE_ACCOUNT_KEY: server.accountKey, COFFER_AZURE_ENDPOINT: `${proxy.url}/${server.accountName}` };
        const storage = open(freshPrefix(), { retryPolicy: QUICK_RETRIES }, env);
        proxy.fail({ status: 503, code: 'ServerBusy', method: 'PUT' });
        await storage.put('config', Buffer.from('after a 503'));
        proxy.fail({ status: 500, code: 'InternalError', method: 'GET' });
        expect((await storage.get('config')).toString()).toBe('after a 503');
        proxy.fail({ dropAfterBodyBytes: 1000, method: 'PUT' });
        await storage.put('data/dropped', randomBytes(256 * 1024));
        expect((await storage.stat('data/dropped')).size).toBe(256 * 1024);
        await storage.close();
      } finally {
        await proxy.stop();
      }
    });

    it.each([
      ['in one request', {}, /^\/[^?]+$/],
      ['as a block list', { blockSizeBytes: 1024 * 1024 }, /comp=blocklist/],
    ])('include a lost answer to an exclusive write %s, which the retry recognises as its own', async (_, options, lostPath) => {
      const proxy = await startAnswerLosingProxy(server.endpoint, (req) => req.method === 'PUT' && lostPath.test(req.url ?? ''));
      try {
        const env = { AZURE_ACCOUNT_KEY: server.accountKey, COFFER_AZURE_ENDPOINT: `${proxy.url}/${server.accountName}` };
        const storage = open(freshPrefix(), { ...options, retryPolicy: QUICK_RETRIES }, env);
        const mine = randomBytes(3 * 1024 * 1024);
        await storage.put('config', mine, { exclusive: true });
        expect(proxy.lost).toBe(1);
        expect((await storage.get('config')).equals(mine)).toBe(true);
        expect(await failure(storage.put('config', mine, { exclusive: true }))).toBeInstanceOf(AlreadyExistsError);
        await storage.close();
      } finally {
        await proxy.stop();
      }
    });

    it('leave an exclusive write retried onto someone else\'s object refused', async () => {
      const proxy = await startFaultyHttpProxy(server.endpoint);
      try {
        const prefix = freshPrefix();
        await open(prefix).put('config', Buffer.from('theirs'));
        const env = { AZURE_ACCOUNT_KEY: server.accountKey, COFFER_AZURE_ENDPOINT: `${proxy.url}/${server.accountName}` };
        const storage = open(prefix, { retryPolicy: QUICK_RETRIES }, env);
        proxy.fail({ status: 503, code: 'ServerBusy', method: 'PUT' });
        expect(await failure(storage.put('config', Buffer.from('mine'), { exclusive: true }))).toBeInstanceOf(AlreadyExistsError);
        expect((await storage.get('config')).toString()).toBe('theirs');
        await storage.close();
      } finally {
        await proxy.stop();
      }
    });

    it('give up after the policy\'s tries, naming the location and the object', async () => {
      const port = await closedPort();
      const env = { AZURE_ACCOUNT_KEY: server.accountKey, COFFER_AZURE_ENDPOINT: `http://127.0.0.1:${port}/${server.accountName}` };
      const storage = new AzureStorage('azure:devstoreaccount1/coffer-test/gone', env, { retryPolicy: QUICK_RETRIES });
      const err = await failure(storage.get('config'));
      expect(err).toBeInstanceOf(StorageError);
      expect((err as StorageError).permanent).toBe(false);
      expect((err as StorageError).objectName).toBe('config');
      expect((err as Error).message).toMatch(/^cannot read config in azure:devstoreaccount1\/coffer-test\/gone: .*ECONNREFUSED.* \(gave up after 3 tries\)$/);
      await storage.close();
    });

    it('include a server that stops answering, abandoned after the request timeout', async () => {
      const proxy = await startFaultyHttpProxy(server.endpoint);
      try {
        const env = { AZURE_ACCOUNT_KEY: server.accountKey, COFFER_AZURE_ENDPOINT: `${proxy.url}/${server.accountName}` };
        const storage = open(freshPrefix(), { retryPolicy: { ...QUICK_RETRIES, attempts: 2 }, requestTimeoutMs: 300 }, env);
        proxy.fail({ hang: true, times: Infinity });
        const err = await failure(storage.put('config', Buffer.from('x')));
        expect((err as StorageError).permanent).toBe(false);
        expect((err as Error).message).toMatch(/^cannot write config to azure:\S+: no progress for 300 ms \(gave up after 2 tries\)$/);
        proxy.clear();
        await storage.put('config', Buffer.from('answered'));
        await storage.close();
      } finally {
        await proxy.stop();
      }
    });

    it('do not include a 4xx, which fails at once', async () => {
      const proxy = await startFaultyHttpProxy(server.endpoint);
      try {
        const env = { AZURE_ACCOUNT_KEY: server.accountKey, COFFER_AZURE_ENDPOINT: `${proxy.url}/${server.accountName}` };
        const storage = open(freshPrefix(), { retryPolicy: PATIENT_RETRIES }, env);
        proxy.fail({ status: 400, code: 'InvalidHeaderValue' });
        const err = await failure(storage.put('config', Buffer.from('x')));
        expect((err as StorageError).permanent).toBe(true);
        expect((err as Error).message).toMatch(/^cannot write config to azure:\S+: HTTP 400 InvalidHeaderValue: injected by the faulty HTTP proxy$/);
        await storage.close();
      } finally {
        await proxy.stop();
      }
    });
  });

  describe('the request timeout', () => {
    /** Serves every GET as a 1000-byte blob sent in 10 pieces `everyMs` apart, stopping for good after `stopAfter` pieces. */
    async function tricklingBlobServer(everyMs: number, stopAfter = 10): Promise<{ endpoint: string; stop(): Promise<void> }> {
      const blobServer = http.createServer((_req, res) => {
        res.writeHead(200, { 'content-length': '1000', etag: '"v1"', 'last-modified': new Date().toUTCString(), 'x-ms-blob-type': 'BlockBlob' });
        let sent = 0;
        const timer = setInterval(() => {
          if (sent === stopAfter) return clearInterval(timer);
          res.write(Buffer.alloc(100, sent++));
          if (sent === 10) {
            clearInterval(timer);
            res.end();
          }
        }, everyMs);
        res.on('close', () => clearInterval(timer));
      });
      await new Promise<void>((resolve) => blobServer.listen(0, '127.0.0.1', resolve));
      return {
        endpoint: `http://127.0.0.1:${(blobServer.address() as AddressInfo).port}/${server.accountName}`,
        stop: () => new Promise<void>((resolve) => {
          blobServer.close(() => resolve());
          blobServer.closeAllConnections();
        }),
      };
    }

    it('lets a slow download finish while bytes keep coming', async () => {
      const blobServer = await tricklingBlobServer(100);
      try {
        const storage = new AzureStorage('azure:devstoreaccount1/slow', { AZURE_ACCOUNT_KEY: server.accountKey, COFFER_AZURE_ENDPOINT: blobServer.endpoint }, { requestTimeoutMs: 400 });
        // About a second in all, well past the timeout, yet never 400 ms without a byte.
        expect((await storage.get('config')).length).toBe(1000);
        await storage.close();
      } finally {
        await blobServer.stop();
      }
    });

    it('abandons a download that stalls midway', async () => {
      const blobServer = await tricklingBlobServer(10, 3);
      try {
        const env = { AZURE_ACCOUNT_KEY: server.accountKey, COFFER_AZURE_ENDPOINT: blobServer.endpoint };
        const storage = new AzureStorage('azure:devstoreaccount1/stalls', env, { requestTimeoutMs: 200, retryPolicy: { ...QUICK_RETRIES, attempts: 2 } });
        const err = await failure(storage.get('config'));
        expect((err as StorageError).permanent).toBe(false);
        expect((err as Error).message).toBe('cannot read config in azure:devstoreaccount1/stalls: no progress for 200 ms (gave up after 2 tries)');
        await storage.close();
      } finally {
        await blobServer.stop();
      }
    });
  });

  it('reports NotFoundError for a missing object whatever the call', async () => {
    const storage = open(freshPrefix());
    for (const call of [() => storage.get('keys/none'), () => storage.stat('keys/none'), () => storage.getRange('keys/none', 0, 0)]) {
      expect(await failure(call())).toBeInstanceOf(NotFoundError);
    }
    await storage.close();
  });
});

/** A prefix no other test uses, so each test starts with an empty storage in the shared container. */
function freshPrefix(): string {
  return `t-${randomBytes(6).toString('hex')}`;
}

async function blobNames(prefix: string): Promise<string[]> {
  const names: string[] = [];
  for await (const blob of server.serviceClient().getContainerClient(server.container).listBlobsFlat({ prefix: `${prefix}/` })) names.push(blob.name);
  return names.sort();
}

/** Azurite keeps everything in memory: the conformance suite's 20 MiB objects would add up. */
async function deleteUnder(prefix: string): Promise<void> {
  const container = server.serviceClient().getContainerClient(server.container);
  for (const name of await blobNames(prefix)) await container.deleteBlob(name);
}

/** An account SAS for the blob service, valid for an hour, with `permissions` on `resourceTypes` (container and object by default). */
function accountSas(permissions: string, resourceTypes = 'co'): string {
  return generateAccountSASQueryParameters(
    {
      permissions: AccountSASPermissions.parse(permissions),
      resourceTypes: AccountSASResourceTypes.parse(resourceTypes).toString(),
      services: AccountSASServices.parse('b').toString(),
      expiresOn: new Date(Date.now() + 3600_000),
      protocol: SASProtocol.HttpsAndHttp,
    },
    new StorageSharedKeyCredential(server.accountName, server.accountKey),
  ).toString();
}

/**
 * A proxy that forwards everything to `target`, but for the first request that `lose`
 * picks, lets the target act on it and then cuts the connection instead of answering:
 * the client cannot tell whether its request took effect.
 */
async function startAnswerLosingProxy(target: string, lose: (req: http.IncomingMessage) => boolean): Promise<{ url: string; lost: number; stop(): Promise<void> }> {
  const upstream = new URL(target);
  let lost = 0;
  const proxy = http.createServer((req, res) => {
    const loseThis = lost === 0 && lose(req);
    const outgoing = http.request({ hostname: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      if (loseThis) {
        lost++;
        answer.resume();
        answer.on('end', () => req.socket.destroy());
        return;
      }
      res.writeHead(answer.statusCode ?? 502, answer.rawHeaders);
      answer.pipe(res);
    });
    outgoing.on('error', () => req.socket.destroy());
    req.pipe(outgoing);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
    get lost() {
      return lost;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        proxy.close(() => resolve());
        proxy.closeAllConnections();
      }),
  };
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const listener = net.createServer();
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const { port } = listener.address() as AddressInfo;
  await new Promise<void>((resolve) => listener.close(() => resolve()));
  return port;
}

