import { readFile } from 'node:fs/promises';
import type { Algorithms, Client, FileEntryWithStats, SFTPWrapper, ServerHostKeyAlgorithm, Stats } from 'ssh2';
import { prepareHostKeyCheck, sha256Fingerprint } from './host-key-check';
import type { HostKeyCheck } from './host-key-check';
import { formatHost } from './sftp-location';
import type { SftpTarget } from './sftp-location';
import type { SftpSettings } from './sftp-settings';

/** SFTP status codes (draft-ietf-secsh-filexfer-02, the version OpenSSH speaks) that the driver tells apart. */
export const SFTP_STATUS = {
  NO_SUCH_FILE: 2,
  PERMISSION_DENIED: 3,
  /** Anything errno_to_portable() cannot name: EEXIST, ENOSPC, EIO, EISDIR, ENOTEMPTY… */
  FAILURE: 4,
  BAD_MESSAGE: 5,
  OP_UNSUPPORTED: 8,
} as const;

/** The status code of an SFTP error reply, or undefined when `err` is not one. */
export function sftpStatus(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

/**
 * The connection failed, not one SFTP request: it could not be set up (`permanent` when
 * trying again cannot help: a refused host key or login, a missing key file) or it dropped.
 */
export class SftpConnectionError extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'SftpConnectionError';
  }
}

/**
 * The server does not offer an SFTP extension a call needs: it is not OpenSSH's sftp-server,
 * or its configuration denies the request (OpenSSH then leaves the extension unannounced).
 */
export class MissingExtensionError extends Error {
  constructor(
    server: string,
    readonly extension: string,
    options?: { cause?: unknown },
  ) {
    super(`${server} does not offer the SFTP extension ${extension}`, options);
    this.name = 'MissingExtensionError';
  }
}

/** How long to wait for the server. */
export interface SftpTimeouts {
  /** For the TCP connection, the SSH handshake and login together. */
  connectTimeoutMs: number;
  /** SSH keepalives every this often; a connection that misses `keepaliveCountMax` in a row is dead. */
  keepaliveIntervalMs: number;
  keepaliveCountMax: number;
}

/** Free space on the server's filesystem, from statvfs@openssh.com. */
export interface FreeSpace {
  /** Bytes an unprivileged user may still write. */
  availableBytes: number;
}

/**
 * Connects, checks the host key, logs in with the key and opens the SFTP channel.
 * ssh2 is imported here, on first use, so programs that never touch sftp: never load it.
 * Fails with SftpConnectionError.
 */
export async function openSftpSession(target: SftpTarget, settings: SftpSettings, timeouts: SftpTimeouts): Promise<SftpSession> {
  const [key, hostKeyCheck, ssh2] = await Promise.all([
    loadPrivateKey(settings),
    prepareHostKeyCheck(settings.hostKey, target).catch((err: unknown) => {
      throw new SftpConnectionError(`cannot read the known hosts: ${messageOf(err)}`, true, { cause: err });
    }),
    import('ssh2'),
  ]);
  const parsed = ssh2.utils.parseKey(key.text, settings.passphrase);
  if (parsed instanceof Error) {
    const hint = /passphrase|decrypt/i.test(parsed.message) ? ' (is COFFER_SFTP_KEY_PASSPHRASE set, and right?)' : '';
    throw new SftpConnectionError(`cannot use the private key ${key.origin}: ${parsed.message}${hint}`, true, { cause: parsed });
  }
  const publicKeyFingerprint = sha256Fingerprint((Array.isArray(parsed) ? parsed[0] : parsed).getPublicSSH());
  const server = formatHost(target.host, target.port);
  const client = new ssh2.Client();

  return new Promise<SftpSession>((resolve, reject) => {
    let settled = false;
    let hostKeyRefusal: string | undefined;
    const fail = (err: SftpConnectionError): void => {
      if (settled) return;
      settled = true;
      client.end();
      reject(err);
    };
    client.on('error', (err: Error & { level?: string; code?: string }) => {
      if (hostKeyRefusal !== undefined) return fail(new SftpConnectionError(`host key check failed: ${hostKeyRefusal}`, true, { cause: err }));
      if (err.level === 'client-authentication') {
        return fail(
          new SftpConnectionError(
            `${server} refused to log in ${target.user} with the key ${key.origin} (${publicKeyFingerprint}): ` +
              `is its public key in the authorized_keys of ${target.user} on the server?`,
            true,
            { cause: err },
          ),
        );
      }
      if (err.code === 'ENOTFOUND') return fail(new SftpConnectionError(`host ${target.host} not found`, true, { cause: err }));
      if (err.level === 'client-timeout') {
        return fail(new SftpConnectionError(`no answer from ${server} within ${timeouts.connectTimeoutMs} ms`, false, { cause: err }));
      }
      fail(new SftpConnectionError(`cannot connect to ${server}: ${err.message}`, false, { cause: err }));
    });
    client.on('close', () => fail(new SftpConnectionError(`${server} closed the connection while logging in`, false)));
    client.on('ready', () => {
      client.sftp((err, sftp) => {
        if (err) {
          return fail(new SftpConnectionError(`${server} offers no SFTP (is its sftp subsystem configured?): ${err.message}`, true, { cause: err }));
        }
        if (settled) return sftp.end();
        settled = true;
        resolve(new SftpSession(client, sftp, server));
      });
    });
    client.connect({
      host: target.host,
      port: target.port,
      username: target.user,
      privateKey: key.text,
      passphrase: settings.passphrase,
      // Keys only: a password prompt from a misconfigured server must not be answered or hang.
      authHandler: ['publickey'],
      hostVerifier: (keyBlob: Buffer): boolean => {
        hostKeyRefusal = hostKeyCheck.refusal(keyBlob);
        return hostKeyRefusal === undefined;
      },
      algorithms: hostKeyAlgorithms(hostKeyCheck),
      readyTimeout: timeouts.connectTimeoutMs,
      keepaliveInterval: timeouts.keepaliveIntervalMs,
      keepaliveCountMax: timeouts.keepaliveCountMax,
    });
  });
}

/**
 * One SSH connection and its SFTP channel, with each request as a promise. Requests may
 * run concurrently: SFTP tags each with an id and the server answers them as they finish.
 * Once the connection drops (`alive` false), every request, pending or new, fails with a
 * transient SftpConnectionError; the owner opens a new session.
 */
export class SftpSession {
  private connected = true;
  /** Rejecters of requests awaiting an answer, failed at once if the connection drops. */
  private readonly pending = new Set<(err: Error) => void>();
  private lastError: Error | undefined;

  constructor(
    private readonly client: Client,
    private readonly sftp: SFTPWrapper,
    private readonly server: string,
  ) {
    // Without a listener, an 'error' event would crash the process.
    client.on('error', (err) => (this.lastError = err));
    sftp.on('error', (err: Error) => (this.lastError = err));
    client.on('close', () => this.end());
    sftp.on('close', () => this.end());
  }

  get alive(): boolean {
    return this.connected;
  }

  /** Closes the connection; pending requests fail with a transient SftpConnectionError. */
  end(): void {
    if (!this.connected) return;
    this.connected = false;
    const detail = this.lastError === undefined ? '' : `: ${this.lastError.message}`;
    const lost = new SftpConnectionError(`the connection to ${this.server} was lost${detail}`, false, { cause: this.lastError });
    for (const reject of this.pending) reject(lost);
    this.pending.clear();
    this.client.end();
  }

  /** 'r': read; 'wx': create for writing, failing if the name exists, with permissions `mode`. */
  open(path: string, flags: 'r' | 'wx', mode?: number): Promise<Buffer> {
    return this.request((done) => (mode === undefined ? this.sftp.open(path, flags, done) : this.sftp.open(path, flags, { mode }, done)));
  }

  close(handle: Buffer): Promise<void> {
    return this.request((done) => this.sftp.close(handle, done));
  }

  fstat(handle: Buffer): Promise<Stats> {
    return this.request((done) => this.sftp.fstat(handle, done));
  }

  /** Bytes read, up to `length`; 0 at the end of the file. */
  read(handle: Buffer, buffer: Buffer, offset: number, length: number, position: number): Promise<number> {
    return this.request((done) => this.sftp.read(handle, buffer, offset, length, position, (err, bytesRead) => done(err, bytesRead)));
  }

  write(handle: Buffer, buffer: Buffer, offset: number, length: number, position: number): Promise<void> {
    return this.request((done) => this.sftp.write(handle, buffer, offset, length, position, done));
  }

  /** fsync@openssh.com: the server fsyncs the file (or directory) behind the handle. */
  fsync(handle: Buffer): Promise<void> {
    return this.request((done) => this.sftp.ext_openssh_fsync(handle, (err) => done(err)), 'fsync@openssh.com');
  }

  stat(path: string): Promise<Stats> {
    return this.request((done) => this.sftp.stat(path, done));
  }

  /** The entries of a directory, "." and ".." left out, each with lstat()-like attributes. */
  readdir(path: string): Promise<FileEntryWithStats[]> {
    return this.request((done) => this.sftp.readdir(path, done));
  }

  mkdir(path: string): Promise<void> {
    return this.request((done) => this.sftp.mkdir(path, done));
  }

  unlink(path: string): Promise<void> {
    return this.request((done) => this.sftp.unlink(path, done));
  }

  /** Plain SFTP rename: fails when `to` exists (OpenSSH links then unlinks, so this is race-free). */
  renameNoReplace(from: string, to: string): Promise<void> {
    return this.request((done) => this.sftp.rename(from, to, done));
  }

  /** posix-rename@openssh.com: rename(2), atomically replacing `to` if it exists. */
  renameReplacing(from: string, to: string): Promise<void> {
    return this.request((done) => this.sftp.ext_openssh_rename(from, to, done), 'posix-rename@openssh.com');
  }

  /** statvfs@openssh.com for the filesystem holding `path`. */
  freeSpace(path: string): Promise<FreeSpace> {
    return this.request<{ f_bavail: number; f_frsize: number }>(
      (done) => this.sftp.ext_openssh_statvfs(path, done),
      'statvfs@openssh.com',
    ).then((info) => ({ availableBytes: info.f_bavail * info.f_frsize }));
  }

  /**
   * Runs one ssh2 call. Its error replies (with an SFTP status code) are passed on as they
   * are; any other failure means the channel or connection broke, so the session ends and
   * the caller may retry on a new one. ssh2 throws at once for an `extension` the server
   * does not offer: that becomes a MissingExtensionError.
   */
  private request<T>(send: (done: (err: Error | null | undefined, value?: T) => void) => void, extension?: string): Promise<T> {
    if (!this.connected) return Promise.reject(new SftpConnectionError(`the connection to ${this.server} was lost`, false));
    return new Promise<T>((resolve, reject) => {
      this.pending.add(reject);
      try {
        send((err, value) => {
          this.pending.delete(reject);
          if (!err) return resolve(value as T);
          if (sftpStatus(err) !== undefined) return reject(err);
          this.lastError = err;
          this.end();
          reject(new SftpConnectionError(`the connection to ${this.server} failed: ${err.message}`, false, { cause: err }));
        });
      } catch (err) {
        this.pending.delete(reject);
        reject(extension === undefined ? err : new MissingExtensionError(this.server, extension, { cause: err }));
      }
    });
  }
}

/** The private key's text and where it came from (for messages: a path or the variable's name, never the key). */
async function loadPrivateKey(settings: SftpSettings): Promise<{ text: string; origin: string }> {
  const source = settings.privateKey;
  if (source.kind === 'inline') return { text: source.text, origin: 'from COFFER_SFTP_KEY' };
  for (const file of source.candidates) {
    try {
      return { text: await readFile(file, 'utf8'), origin: file };
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      // Only the defaults are tried in turn; an explicit COFFER_SFTP_KEY_FILE must exist.
      if (code === 'ENOENT' && source.candidates.length > 1) continue;
      throw new SftpConnectionError(`cannot read the private key ${file}: ${messageOf(err)}`, true, { cause: err });
    }
  }
  const tried = source.candidates.join(', ');
  throw new SftpConnectionError(`no private key: none of ${tried} exists; set COFFER_SFTP_KEY_FILE or COFFER_SFTP_KEY`, true);
}

/** The client's host key preference with the algorithms known_hosts holds for this host moved to the front. */
function hostKeyAlgorithms(check: HostKeyCheck): Algorithms | undefined {
  if (check.preferredAlgorithms.length === 0) return undefined;
  const preferred = check.preferredAlgorithms as ServerHostKeyAlgorithm[];
  // ssh2 applies these in order: taking them out first makes prepend move them rather than skip them.
  return { serverHostKey: { remove: preferred, prepend: preferred, append: [] } };
}

/** An error's message; duck-typed, as errors from Node's own modules may come from another realm (jest's sandbox). */
export function messageOf(err: unknown): string {
  const message = (err as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : String(err);
}
