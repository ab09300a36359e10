import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { openStorage } from '../open-storage';
import type { RetryPolicy } from '../retry';
import { AccessDeniedError, AlreadyExistsError, NotFoundError, StorageError, StorageFullError } from '../storage';
import type { Storage } from '../storage';
import { describeStorageConformance } from '../test-support/storage-conformance';
import { startSftpTestServer } from '../testing/sftp-test-server';
import type { SftpTestServer } from '../testing/sftp-test-server';
import { openSftpStorage } from './sftp-storage';
import { collect, expectStorageError, failure, filesUnder, sorted } from '../test-support/storage-test-helpers';

/** Quick retries: the server is local, and a test waiting 30 s for a refusal proves nothing more. */
const QUICK_RETRIES: RetryPolicy = { attempts: 6, baseDelayMs: 20, maxDelayMs: 200 };

let server: SftpTestServer;

beforeAll(async () => {
  // No skipping: without sshd these tests fail, with sshd's own words.
  server = await startSftpTestServer();
});

afterAll(async () => {
  await server?.stop();
});

describeStorageConformance('SftpStorage against OpenSSH', async () => {
  const subdir = `conformance-${hex(8)}`;
  return {
    storage: openSftpStorage(server.location(subdir), server.env, { retryPolicy: QUICK_RETRIES }),
    cleanup: () => rm(path.join(server.root, subdir), { recursive: true, force: true }),
  };
});

describe('SftpStorage', () => {
  let subdir: string;
  let dir: string;
  const opened: Storage[] = [];

  /** A storage on this test's directory; closed after the test. */
  function storageWith(env: NodeJS.ProcessEnv, options: { user?: string; noDelete?: boolean } = {}): Storage {
    const storage = openSftpStorage(server.location(subdir, options), env, { retryPolicy: QUICK_RETRIES });
    opened.push(storage);
    return storage;
  }

  beforeEach(() => {
    subdir = `test-${hex(8)}`;
    dir = path.join(server.root, subdir);
  });

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((s) => s.close()));
    await rm(dir, { recursive: true, force: true });
  });

  it('is what openStorage opens for an sftp: location, with credentials from the env it is given', async () => {
    const storage = openStorage(server.location(subdir), { env: server.env });
    opened.push(storage);
    expect(storage.location).toBe(`sftp:${server.user}@127.0.0.1:${server.port}${dir}`);
    await storage.put('config', Buffer.from('hello'));
    expect((await readFile(path.join(dir, 'config'))).toString()).toBe('hello');
    const viaUrl = openStorage(`sftp://${server.user}@127.0.0.1:${server.port}${dir}`, { env: server.env });
    opened.push(viaUrl);
    expect((await viaUrl.get('config')).toString()).toBe('hello');
  });

  it('lays objects out as the local driver does, read-only', async () => {
    const storage = storageWith(server.env);
    const data = 'ab' + hex(62);
    const index = '00' + hex(62);
    const snapshot = 'ff' + hex(62);
    for (const n of [`data/${data}`, `index/${index}`, `snapshots/${snapshot}`, 'config', 'keys/k1', 'locks/l1']) {
      await storage.put(n, Buffer.from(n));
    }
    expect(await filesUnder(dir)).toEqual([`data/ab/${data}`, `index/00/${index}`, `snapshots/ff/${snapshot}`, 'config', 'keys/k1', 'locks/l1'].sort());
    expect((await stat(path.join(dir, 'config'))).mode & 0o777).toBe(0o444);
  });

  it('lists neither temp files left by a killed writer nor strays', async () => {
    const storage = storageWith(server.env);
    const name = `data/ab${hex(62)}`;
    await storage.put(name, Buffer.from('real'));
    await storage.put('keys/k1', Buffer.from('key'));
    await writeFile(path.join(dir, 'data', 'ab', '.tmp-0123456789abcdef'), 'half written');
    await writeFile(path.join(dir, 'data', 'ab', 'notes.txt'), 'stray');
    await writeFile(path.join(dir, 'keys', '.tmp-0123456789abcdef'), 'half written');
    expect(await collect(storage.list('data'))).toEqual([{ name, size: 4 }]);
    expect(await collect(storage.list('keys'))).toEqual([{ name: 'keys/k1', size: 3 }]);
  });

  it('leaves no temp file behind when an exclusive put finds the name taken', async () => {
    const storage = storageWith(server.env);
    await storage.put('locks/l1', Buffer.from('held'));
    expect(await failure(storage.put('locks/l1', Buffer.from('mine'), { exclusive: true }))).toBeInstanceOf(AlreadyExistsError);
    expect(await filesUnder(dir)).toEqual(['locks/l1']);
  });

  it('refuses a name that clashes with a directory at once, permanently', async () => {
    const storage = storageWith(server.env);
    await storage.put('keys/k1', Buffer.from('key'));
    const err = await failure(storage.put('keys', Buffer.from('x')));
    expectStorageError(err, storage, 'keys', true);
    expect(await filesUnder(dir)).toEqual(['keys/k1']);
  });

  it('takes 20 parallel puts into one new fan-out directory', async () => {
    const storage = storageWith(server.env);
    const objects = Array.from({ length: 20 }, (_, i) => ({ name: `data/cd${hex(62)}`, data: randomBytes(1000 + i) }));
    await Promise.all(objects.map((o) => storage.put(o.name, o.data)));
    expect(sorted(await collect(storage.list('data')))).toEqual(sorted(objects.map((o) => ({ name: o.name, size: o.data.length }))));
    for (const o of objects) expect((await storage.get(o.name)).equals(o.data)).toBe(true);
  });

  it('works with the key given inline in COFFER_SFTP_KEY, line breaks escaped or not', async () => {
    const key = await readFile(server.files.clientPrivateKey, 'utf8');
    const { COFFER_SFTP_HOST_KEY } = server.env;
    await storageWith({ COFFER_SFTP_KEY: key, COFFER_SFTP_HOST_KEY }).put('config', Buffer.from('inline'));
    const escaped = key.trim().replace(/\n/g, '\\n');
    expect((await storageWith({ COFFER_SFTP_KEY: escaped, COFFER_SFTP_HOST_KEY }).get('config')).toString()).toBe('inline');
  });

  it('uses a passphrase-protected key with COFFER_SFTP_KEY_PASSPHRASE, and says what is missing without it', async () => {
    const keyDir = await mkdtemp(path.join(tmpdir(), 'coffer-sftp-key-'));
    try {
      const protectedKey = path.join(keyDir, 'id_ed25519');
      await writeFile(protectedKey, await readFile(server.files.clientPrivateKey), { mode: 0o600 });
      execFileSync('ssh-keygen', ['-q', '-p', '-N', 'correct horse', '-f', protectedKey]);
      const env = { ...server.env, COFFER_SFTP_KEY_FILE: protectedKey };
      await storageWith({ ...env, COFFER_SFTP_KEY_PASSPHRASE: 'correct horse' }).put('config', Buffer.from('x'));
      const storage = storageWith(env);
      const err = await failure(storage.get('config'));
      expectStorageError(err, storage, 'config', true);
      expect((err as Error).message).toContain(`cannot use the private key ${protectedKey}:`);
      expect((err as Error).message).toContain('COFFER_SFTP_KEY_PASSPHRASE');
    } finally {
      await rm(keyDir, { recursive: true, force: true });
    }
  });

  it('says which key the server refused to log in with', async () => {
    const keyDir = await mkdtemp(path.join(tmpdir(), 'coffer-sftp-key-'));
    try {
      const stranger = path.join(keyDir, 'id_ed25519');
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', stranger]);
      const storage = storageWith({ ...server.env, COFFER_SFTP_KEY_FILE: stranger });
      const err = await failure(storage.put('config', Buffer.from('x')));
      expectStorageError(err, storage, 'config', true);
      expect((err as Error).message).toContain(`refused to log in ${server.user} with the key ${stranger} (SHA256:`);
    } finally {
      await rm(keyDir, { recursive: true, force: true });
    }
  });

  describe('host key pinning', () => {
    let sshDir: string;
    let hostKeyLine: string;

    beforeEach(async () => {
      sshDir = await mkdtemp(path.join(tmpdir(), 'coffer-sftp-known-hosts-'));
      hostKeyLine = await knownHostsLine(server.files.hostPublicKeys.ed25519);
    });

    afterEach(async () => {
      await rm(sshDir, { recursive: true, force: true });
    });

    async function knownHostsLine(publicKeyFile: string): Promise<string> {
      const [type, key] = (await readFile(publicKeyFile, 'utf8')).split(' ');
      return `[127.0.0.1]:${server.port} ${type} ${key}\n`;
    }

    /** The server's env with known_hosts pinning instead of the fingerprint. */
    function knownHostsEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
      return { COFFER_SFTP_KEY_FILE: server.env.COFFER_SFTP_KEY_FILE, ...extra };
    }

    it('refuses a server whose key is not the pinned one, printing the offered fingerprint, and writes nothing', async () => {
      const wrong = execFileSync('ssh-keygen', ['-l', '-f', server.files.clientPublicKey]).toString().split(' ')[1];
      const storage = storageWith({ ...server.env, COFFER_SFTP_HOST_KEY: wrong });
      const err = await failure(storage.put('config', Buffer.from('secret')));
      expectStorageError(err, storage, 'config', true);
      expect((err as Error).message).toContain(`offered the ssh-ed25519 host key ${server.env.COFFER_SFTP_HOST_KEY}`);
      expect((err as Error).message).toContain(`COFFER_SFTP_HOST_KEY=${server.env.COFFER_SFTP_HOST_KEY}`);
      expect((err as Error).message).toContain(`ssh-keyscan -p ${server.port} 127.0.0.1`);
      await expect(stat(dir)).rejects.toThrow(/ENOENT/);
    });

    it('accepts a key listed in COFFER_SFTP_KNOWN_HOSTS under [host]:port', async () => {
      const knownHosts = path.join(sshDir, 'known_hosts');
      await writeFile(knownHosts, `# pinned by hand\nother.example ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB\n${hostKeyLine}`);
      const storage = storageWith(knownHostsEnv({ COFFER_SFTP_KNOWN_HOSTS: knownHosts }));
      await storage.put('config', Buffer.from('pinned'));
      expect((await storage.get('config')).toString()).toBe('pinned');
    });

    it('asks for the kind of host key known_hosts holds, though the server prefers another', async () => {
      const knownHosts = path.join(sshDir, 'known_hosts');
      await writeFile(knownHosts, await knownHostsLine(server.files.hostPublicKeys.rsa));
      await storageWith(knownHostsEnv({ COFFER_SFTP_KNOWN_HOSTS: knownHosts })).put('config', Buffer.from('rsa'));
    });

    it('accepts a hashed known_hosts entry in ~/.ssh/known_hosts of the HOME it is given', async () => {
      await mkdir(path.join(sshDir, '.ssh'));
      const knownHosts = path.join(sshDir, '.ssh', 'known_hosts');
      await writeFile(knownHosts, hostKeyLine);
      execFileSync('ssh-keygen', ['-H', '-f', knownHosts], { stdio: 'pipe' });
      expect(await readFile(knownHosts, 'utf8')).toMatch(/^\|1\|/);
      await storageWith(knownHostsEnv({ HOME: sshDir })).put('config', Buffer.from('hashed'));
    });

    it('refuses a server known_hosts does not know, printing the offered fingerprint', async () => {
      const knownHosts = path.join(sshDir, 'known_hosts');
      await writeFile(knownHosts, hostKeyLine.replace(`]:${server.port} `, `]:${server.port + 1} `));
      const storage = storageWith(knownHostsEnv({ COFFER_SFTP_KNOWN_HOSTS: knownHosts }));
      const err = await failure(storage.get('config'));
      expectStorageError(err, storage, 'config', true);
      expect(err).not.toBeInstanceOf(NotFoundError);
      expect((err as Error).message).toContain(`which is unknown: ${knownHosts} has no ssh-ed25519 key for [127.0.0.1]:${server.port}`);
      expect((err as Error).message).toContain(`COFFER_SFTP_HOST_KEY=${server.env.COFFER_SFTP_HOST_KEY}`);
    });

    it('refuses a server whose key differs from the one known_hosts holds for it', async () => {
      const knownHosts = path.join(sshDir, 'known_hosts');
      const [type, otherKey] = (await readFile(server.files.clientPublicKey, 'utf8')).split(' ');
      await writeFile(knownHosts, `[127.0.0.1]:${server.port} ${type} ${otherKey}\n`);
      const err = await failure(storageWith(knownHostsEnv({ COFFER_SFTP_KNOWN_HOSTS: knownHosts })).get('config'));
      expect((err as StorageError).permanent).toBe(true);
      expect((err as Error).message).toContain('THE HOST KEY HAS CHANGED');
      expect((err as Error).message).toContain(server.env.COFFER_SFTP_HOST_KEY);
    });
  });

  describe('when the connection drops', () => {
    it('reconnects on the next call', async () => {
      const storage = storageWith(server.env);
      await storage.put('config', Buffer.from('before'));
      await server.dropConnections();
      expect((await storage.get('config')).toString()).toBe('before');
      await storage.put('config', Buffer.from('after'));
      expect((await storage.get('config')).toString()).toBe('after');
    });

    it('finishes calls that were in flight, on a new connection', async () => {
      const storage = storageWith(server.env);
      await storage.put('config', Buffer.from('connected'));
      const objects = Array.from({ length: 6 }, () => randomBytes(4 * 1024 * 1024)).map((data) => ({ name: `data/${hex()}`, data }));
      const calls = Promise.all([...objects.map((o) => storage.put(o.name, o.data)), storage.get('config')]);
      await server.dropConnections();
      await calls;
      for (const o of objects) expect((await storage.get(o.name)).equals(o.data)).toBe(true);
    });

    it('reconnects after sshd restarts', async () => {
      const storage = storageWith(server.env);
      await storage.put('config', Buffer.from('before restart'));
      await server.restart();
      expect((await storage.get('config')).toString()).toBe('before restart');
    });
  });

  it('reports a server it cannot reach as a transient error naming the location and the object', async () => {
    const closedPort = server.port === 65535 ? 1 : server.port + 1;
    const location = `sftp:${server.user}@127.0.0.1:${closedPort}${dir}`;
    const storage = openSftpStorage(location, server.env, { retryPolicy: { attempts: 2, baseDelayMs: 1, maxDelayMs: 1 } });
    opened.push(storage);
    const err = await failure(storage.stat('config'));
    expectStorageError(err, storage, 'config', false);
    expect((err as Error).message).toMatch(/ECONNREFUSED.*gave up after 2 tries/);
  });

  it('maps permission denied on a read-only directory to AccessDeniedError', async () => {
    const writer = storageWith(server.env);
    await writer.put('config', Buffer.from('readable'));
    await chmod(dir, 0o555);
    // root may write anywhere, so log in as a user the mode applies to.
    const reader = storageWith(server.env, { user: process.getuid?.() === 0 ? 'nobody' : server.user });
    expect((await reader.get('config')).toString()).toBe('readable');
    const err = await failure(reader.put('keys/k2', Buffer.from('x')));
    expect(err).toBeInstanceOf(AccessDeniedError);
    expectStorageError(err, reader, 'keys/k2', true);
    expect(await failure(reader.delete('config'))).toBeInstanceOf(AccessDeniedError);
  });

  it('works for a writer whose server refuses every removal, and says when it refuses', async () => {
    const writer = storageWith(server.env, { noDelete: true });
    const pack = randomBytes(100_000);
    const packName = `data/${createHash('sha256').update(pack).digest('hex')}`;
    await writer.put(packName, pack);
    await writer.put(packName, pack);
    await writer.put('locks/l1', Buffer.from('lock'), { exclusive: true });
    // A lock is refreshed by replacing it, which such a writer must still be able to do.
    await writer.put('locks/l1', Buffer.from('lock, refreshed'));
    expect(await failure(writer.put('locks/l1', Buffer.from('lock'), { exclusive: true }))).toBeInstanceOf(AlreadyExistsError);
    for (const name of [packName, 'locks/l1']) {
      const err = await failure(writer.delete(name));
      expect(err).toBeInstanceOf(AccessDeniedError);
      expectStorageError(err, writer, name, true);
    }
    expect((await writer.get(packName)).equals(pack)).toBe(true);
    // The refused exclusive put could not remove its temp file: it stays for maintenance, unlisted.
    expect((await filesUnder(dir)).filter((f) => path.basename(f).startsWith('.tmp-'))).toHaveLength(1);
    expect(await collect(writer.list('locks'))).toEqual([{ name: 'locks/l1', size: 15 }]);
  });

  it('reports a full disk as StorageFullError, leaves nothing partial, and recovers once space is freed', async () => {
    await mkdir(dir);
    // A 2 MiB tmpfs: needs root, as the rest of this suite does (sshd logs in as other users).
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', dir], { stdio: 'pipe' });
    try {
      const storage = storageWith(server.env);
      const small = `data/${hex()}`;
      const big = `data/${hex()}`;
      await storage.put(small, randomBytes(512 * 1024));
      const err = await failure(storage.put(big, randomBytes(3 * 1024 * 1024)));
      expect(err).toBeInstanceOf(StorageFullError);
      expectStorageError(err, storage, big, true);
      expect(await filesUnder(dir)).toEqual([`data/${small.slice(5, 7)}/${small.slice(5)}`]);
      await storage.delete(small);
      await storage.put(big, randomBytes(1024 * 1024));
      await storage.close();
    } finally {
      execFileSync('umount', ['--lazy', dir], { stdio: 'pipe' });
    }
  });

  it('fails every call after close(), permanently', async () => {
    const storage = storageWith(server.env);
    await storage.put('config', Buffer.from('x'));
    await storage.close();
    expectStorageError(await failure(storage.get('config')), storage, 'config', true);
  });
});

function hex(digits = 64): string {
  return randomBytes(digits / 2).toString('hex');
}

