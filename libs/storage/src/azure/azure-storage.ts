import { createHash } from 'node:crypto';
import * as http from 'node:http';
import * as https from 'node:https';
import { buffer as readAll } from 'node:stream/consumers';
// Types only: the SDK is loaded on first I/O (see AzureStorage), so the CLI and the agent
// do not pay for it unless a repository is on Azure.
import type { BlobDownloadResponseParsed, BlockBlobClient, ContainerClient, RequestPolicyFactory } from '@azure/storage-blob';
import { assertObjectName } from '../object-names';
import { DEFAULT_RETRY_POLICY, withRetries } from '../retry';
import type { RetryPolicy } from '../retry';
import { AccessDeniedError, AlreadyExistsError, NotFoundError, StorageError } from '../storage';
import type { ObjectInfo, PutOptions, Storage } from '../storage';
import { azureBlobEndpoint, blobPathProblem, parseAzureLocation, readAzureCredential } from './azure-location';
import type { AzureCredential, AzureLocation } from './azure-location';

/** Tunables of AzureStorage; the defaults suit production, tests shrink them. */
export interface AzureStorageOptions {
  /** How failed calls are retried; defaults to DEFAULT_RETRY_POLICY. */
  retryPolicy?: RetryPolicy;
  /**
   * How long one try of a call may go without progress (no byte sent or received, no
   * answer) before it is abandoned as a transient failure. Default 60 s.
   */
  requestTimeoutMs?: number;
  /** Objects up to this size are written in one request, larger ones in blocks of this size. Default 8 MiB. */
  blockSizeBytes?: number;
  /** Objects per listing request; default 5000, the most Azure returns. */
  listPageSize?: number;
}

/** Long enough for a busy service to answer, short enough that a dead connection fails a try, not the job. */
const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;

/**
 * A repository pack (16 MiB by default) goes up in a few blocks; a block is small enough
 * that a broken connection costs little to resend.
 */
const DEFAULT_BLOCK_SIZE_BYTES = 8 * 1024 * 1024;

/** Blocks of one object sent at once; the repository already writes several objects in parallel. */
const UPLOAD_CONCURRENCY = 4;

/** The most Azure returns in one listing page. */
const DEFAULT_LIST_PAGE_SIZE = 5000;

/** Azure's limit on the length of a blob name. */
const MAX_BLOB_NAME_LENGTH = 1024;

/** Failures below HTTP that a new connection can cure; the others (ENOTFOUND, TLS errors) need a person. */
const TRANSIENT_NETWORK_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  // The SDK's names for "the request could not be sent" and "the answer was cut short".
  'REQUEST_SEND_ERROR',
  'PARSE_ERROR',
]);

/** What a call does, as messages and AccessDeniedError put it. */
type Operation = 'read' | 'write' | 'list' | 'delete';

/**
 * The container is missing. Permanent; only `put` creates containers, so reads report this
 * instead of NotFoundError: a mistyped container should not look like an empty repository.
 */
export class ContainerNotFoundError extends StorageError {}

/**
 * Storage in an Azure Blob Storage container (or Azurite), as block blobs named
 * `PREFIX/<object name>`.
 *
 * Authorisation comes from the env map given to the constructor: AZURE_ACCOUNT_KEY or
 * AZURE_ACCOUNT_SAS; the endpoint from COFFER_AZURE_ENDPOINT or AZURE_ENDPOINT_SUFFIX
 * (see azure-location.ts). The SDK's own retries are off: every call goes through
 * withRetries with this driver's idea of what is transient, so retries are bounded in one place.
 */
export class AzureStorage implements Storage {
  /** `azure:ACCOUNT/CONTAINER[/PREFIX]`; never a key or a SAS. */
  readonly location: string;
  private readonly parsed: AzureLocation;
  private readonly endpoint: string;
  private readonly credential: AzureCredential;
  /** `PREFIX/`, or '' at the container root. */
  private readonly blobPrefix: string;
  private readonly retryPolicy: RetryPolicy;
  private readonly requestTimeoutMs: number;
  private readonly blockSizeBytes: number;
  private readonly listPageSize: number;
  /** Connections are ours, not the SDK's process-wide pool, so close() can release them. */
  private agent: http.Agent | undefined;
  private container: Promise<ContainerClient> | undefined;
  private closed = false;

  /** Parses the location and settings (throwing a permanent StorageError); does no I/O. */
  constructor(location: string, env: NodeJS.ProcessEnv, options: AzureStorageOptions = {}) {
    this.parsed = parseAzureLocation(location);
    this.location = this.parsed.display;
    this.endpoint = azureBlobEndpoint(this.parsed, env);
    this.credential = readAzureCredential(env);
    this.blobPrefix = this.parsed.prefix ? `${this.parsed.prefix}/` : '';
    this.retryPolicy = options.retryPolicy ?? DEFAULT_RETRY_POLICY;
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.blockSizeBytes = options.blockSizeBytes ?? DEFAULT_BLOCK_SIZE_BYTES;
    this.listPageSize = options.listPageSize ?? DEFAULT_LIST_PAGE_SIZE;
  }

  async put(name: string, data: Uint8Array, options: PutOptions = {}): Promise<void> {
    const blobName = this.blobName(name);
    const body = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    const exclusive = options.exclusive === true;
    // Stored with an exclusive write, so that a retry can tell its own earlier write from someone else's.
    const contentMD5 = exclusive ? createHash('md5').update(body).digest() : undefined;
    let tries = 0;
    await this.run('write', name, async (container, watchdog) => {
      tries++;
      const blob = container.getBlockBlobClient(blobName);
      try {
        try {
          await this.upload(blob, body, contentMD5, watchdog);
        } catch (err) {
          if (azureErrorCode(err) !== 'ContainerNotFound') throw err;
          // The first write of a new repository (init) creates the container, as the local
          // driver creates its directory: otherwise every new Azure repository needs a manual
          // step first. Only a writer does it, and only when its credentials allow (a
          // least-privilege SAS may not: it then gets AccessDeniedError saying so). A
          // repository whose container vanished cannot be recreated this way by accident:
          // opening it reads the config first, which fails with ContainerNotFoundError.
          await this.createContainer(container, name, watchdog);
          await this.upload(blob, body, contentMD5, watchdog);
        }
      } catch (err) {
        // 409 BlobAlreadyExists from a single-request write, 412 from a block list commit.
        if (!exclusive || (azureErrorCode(err) !== 'BlobAlreadyExists' && httpStatus(err) !== 412)) throw err;
        // An earlier try may have written the object and lost the answer. Reporting the name
        // taken would then be wrong, and costly: init would drop its key beside its own config.
        if (tries > 1 && (await this.holdsContent(blob, contentMD5!, watchdog))) return;
        throw new AlreadyExistsError(this.location, name);
      }
    });
  }

  async get(name: string): Promise<Buffer> {
    const blobName = this.blobName(name);
    return this.run('read', name, async (container, watchdog) => {
      // One request, so the bytes are one version of the object even while it is replaced.
      const response = await container.getBlobClient(blobName).download(0, undefined, downloadOptions(watchdog));
      return readBody(response);
    });
  }

  async getRange(name: string, offset: number, length: number): Promise<Buffer> {
    const blobName = this.blobName(name);
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
      throw new StorageError(`cannot read ${name} in ${this.location}: invalid range offset=${offset} length=${length}`, true, name);
    }
    if (length === 0) {
      // HTTP cannot ask for no bytes; the object must still exist and reach the offset.
      const { size } = await this.stat(name);
      if (offset > size) throw this.pastTheEnd(name, offset, length, size);
      return Buffer.alloc(0);
    }
    return this.run('read', name, async (container, watchdog) => {
      let response: BlobDownloadResponseParsed;
      try {
        response = await container.getBlobClient(blobName).download(offset, length, downloadOptions(watchdog));
      } catch (err) {
        // 416: the range starts at or beyond the end.
        if (httpStatus(err) === 416) throw this.pastTheEnd(name, offset, length, undefined);
        throw err;
      }
      const body = await readBody(response);
      // A range running past the end comes back short rather than refused.
      if (body.length < length) throw this.pastTheEnd(name, offset, length, totalSize(response.contentRange));
      return body;
    });
  }

  async stat(name: string): Promise<ObjectInfo> {
    const blobName = this.blobName(name);
    return this.run('read', name, async (container, watchdog) => {
      const properties = await container.getBlobClient(blobName).getProperties({ abortSignal: watchdog.signal });
      return { name, size: properties.contentLength ?? 0 };
    });
  }

  /**
   * False also when the container is missing: the object is not there, and init asks
   * exists('config') before its first put creates the container.
   */
  async exists(name: string): Promise<boolean> {
    try {
      await this.stat(name);
      return true;
    } catch (err) {
      if (err instanceof NotFoundError || err instanceof ContainerNotFoundError) return false;
      throw err;
    }
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    const blobPrefix = `${this.blobName(prefix, 'prefix')}/`;
    let continuationToken: string | undefined;
    do {
      // One retried call per page: a page that fails is fetched again from its continuation token.
      const page = await this.run('list', prefix, async (container, watchdog) => {
        const pages = container.listBlobsFlat({ prefix: blobPrefix, abortSignal: watchdog.signal }).byPage({ continuationToken, maxPageSize: this.listPageSize });
        const next = await pages.next();
        return next.done ? undefined : next.value;
      });
      if (page === undefined) return;
      // The listing holds committed blobs only, so an object being written never shows half-made.
      for (const item of page.segment.blobItems) {
        yield { name: item.name.slice(this.blobPrefix.length), size: item.properties.contentLength ?? 0 };
      }
      continuationToken = page.continuationToken || undefined;
    } while (continuationToken !== undefined);
  }

  async delete(name: string): Promise<void> {
    const blobName = this.blobName(name);
    await this.run('delete', name, async (container, watchdog) => {
      try {
        // Without deleteSnapshots: a blob someone protected with snapshots fails (SnapshotsPresent) rather than losing them.
        await container.getBlobClient(blobName).delete({ abortSignal: watchdog.signal });
      } catch (err) {
        // Missing is success; so is a missing container, which holds no object. A retry
        // after a lost answer lands here too.
        const code = azureErrorCode(err);
        if (code !== 'BlobNotFound' && code !== 'ContainerNotFound') throw err;
      }
    });
  }

  /** Drops the pooled connections; later calls fail. The SDK holds nothing else. */
  async close(): Promise<void> {
    this.closed = true;
    this.agent?.destroy();
  }

  /**
   * Writes the whole object as one block blob: in one request up to blockSizeBytes, else
   * staged blocks that only become the blob when the block list is committed, atomically.
   * With `exclusiveMD5` (an exclusive write) the service refuses if the name is taken
   * (If-None-Match: *) and stores the MD5 for holdsContent().
   */
  private async upload(blob: BlockBlobClient, body: Buffer, exclusiveMD5: Buffer | undefined, watchdog: StallWatchdog): Promise<void> {
    await blob.uploadData(body, {
      blockSize: this.blockSizeBytes,
      maxSingleShotSize: this.blockSizeBytes,
      concurrency: UPLOAD_CONCURRENCY,
      conditions: exclusiveMD5 ? { ifNoneMatch: '*' } : undefined,
      blobHTTPHeaders: exclusiveMD5 ? { blobContentMD5: exclusiveMD5 } : undefined,
      abortSignal: watchdog.signal,
      onProgress: watchdog.progress,
    });
  }

  /** Whether the blob now stored is the one an exclusive write with this MD5 stored. */
  private async holdsContent(blob: BlockBlobClient, contentMD5: Buffer, watchdog: StallWatchdog): Promise<boolean> {
    try {
      const stored = (await blob.getProperties({ abortSignal: watchdog.signal })).contentMD5;
      return stored !== undefined && contentMD5.equals(stored);
    } catch (err) {
      // Deleted since: whoever held the name, it is not ours now.
      if (azureErrorCode(err) === 'BlobNotFound') return false;
      throw err;
    }
  }

  private async createContainer(container: ContainerClient, name: string, watchdog: StallWatchdog): Promise<void> {
    try {
      await container.createIfNotExists({ abortSignal: watchdog.signal });
    } catch (err) {
      if (httpStatus(err) !== 403) throw err;
      throw new AccessDeniedError(
        this.location,
        `create container "${this.parsed.container}" (it does not exist) to write`,
        name,
        `${restErrorSummary(err)}; create the container, or initialise the repository with credentials that may`,
        { cause: err },
      );
    }
  }

  /**
   * Runs one Storage call under withRetries: each try gets the container client (made on
   * first use) and a fresh StallWatchdog, and whatever it throws becomes a StorageError.
   */
  private async run<T>(operation: Operation, name: string, call: (container: ContainerClient, watchdog: StallWatchdog) => Promise<T>): Promise<T> {
    return withRetries(async () => {
      // On every try: a call still retrying when the storage is closed stops instead of reconnecting.
      if (this.closed) throw new StorageError(`cannot ${operation} ${name} ${this.where(operation)}: the storage is closed`, true, name);
      const container = await this.connect(operation, name);
      const watchdog = new StallWatchdog(this.requestTimeoutMs);
      try {
        return await call(container, watchdog);
      } catch (err) {
        throw this.storageError(operation, name, err, watchdog.stalled);
      } finally {
        watchdog.stop();
      }
    }, this.retryPolicy);
  }

  /** The container's client, made once; the first call loads the SDK. */
  private async connect(operation: Operation, name: string): Promise<ContainerClient> {
    const credential = this.credential;
    if (credential.variable === undefined) {
      throw new StorageError(`cannot ${operation} ${name} ${this.where(operation)}: ${credential.problem}`, true, name);
    }
    this.container ??= this.createContainerClient(credential);
    try {
      return await this.container;
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      throw new StorageError(`cannot ${operation} ${name} ${this.where(operation)}: cannot load the Azure SDK (${reason})`, true, name, { cause: err });
    }
  }

  private async createContainerClient(credential: Exclude<AzureCredential, { variable: undefined }>): Promise<ContainerClient> {
    const sdk = await import('@azure/storage-blob');
    const pipeline = sdk.newPipeline(
      credential.variable === 'AZURE_ACCOUNT_KEY' ? new sdk.StorageSharedKeyCredential(this.parsed.account, credential.accountKey) : new sdk.AnonymousCredential(),
      // withRetries retries instead, with the repository's policy and this driver's classification.
      { retryOptions: { maxTries: 1 }, userAgentOptions: { userAgentPrefix: 'coffer' } },
    );
    this.agent = this.endpoint.startsWith('https:') ? new https.Agent({ keepAlive: true }) : new http.Agent({ keepAlive: true });
    pipeline.factories.push(useAgent(this.agent));
    const serviceUrl = credential.variable === 'AZURE_ACCOUNT_SAS' ? `${this.endpoint}?${credential.sasToken}` : this.endpoint;
    return new sdk.BlobServiceClient(serviceUrl, pipeline).getContainerClient(this.parsed.container);
  }

  /** The blob for an object name (or list prefix), refusing names that are unsafe or that Azure would alter. */
  private blobName(name: string, what: 'name' | 'prefix' = 'name'): string {
    assertObjectName(this.location, name, what, (n) =>
      blobPathProblem(n) ??
      (this.blobPrefix.length + n.length > MAX_BLOB_NAME_LENGTH ? `with the location's prefix it is longer than Azure's ${MAX_BLOB_NAME_LENGTH} characters` : undefined),
    );
    return this.blobPrefix + name;
  }

  /**
   * Maps what the SDK threw. Transient: a stalled try, 408, 429, 5xx, and network failures
   * a new connection can cure; permanent: every other 4xx and anything unrecognised.
   */
  private storageError(operation: Operation, name: string, err: unknown, stalled: boolean): StorageError {
    if (err instanceof StorageError) return err;
    const cannot = `cannot ${operation} ${name} ${this.where(operation)}`;
    if (stalled) return new StorageError(`${cannot}: no progress for ${this.requestTimeoutMs} ms`, false, name, { cause: err });
    if (err instanceof InterruptedDownload) return new StorageError(`${cannot}: the download broke off: ${messageOf(err.cause)}`, false, name, { cause: err });
    const status = httpStatus(err);
    const code = azureErrorCode(err);
    if (code === 'ContainerNotFound') {
      return new ContainerNotFoundError(
        `${cannot}: container "${this.parsed.container}" does not exist in storage account "${this.parsed.account}" ` +
          '(create it, or initialise the repository there with credentials that may create containers)',
        true,
        name,
        { cause: err },
      );
    }
    if (status === 404 && code === 'BlobNotFound') return new NotFoundError(this.location, name);
    if (status === 403) {
      return new AccessDeniedError(this.location, operation, name, `${restErrorSummary(err)}; credential from ${this.credential.variable}`, { cause: err });
    }
    if (status !== undefined) return new StorageError(`${cannot}: ${restErrorSummary(err)}`, !isTransientStatus(status, code), name, { cause: err });
    const networkCode = (err as { code?: unknown } | null)?.code;
    const transient = typeof networkCode === 'string' && TRANSIENT_NETWORK_CODES.has(networkCode);
    const hint = networkCode === 'ENOTFOUND' ? ' (no such host: check the account name, COFFER_AZURE_ENDPOINT or AZURE_ENDPOINT_SUFFIX)' : '';
    return new StorageError(`${cannot}: ${messageOf(err)}${hint}`, !transient, name, { cause: err });
  }

  private pastTheEnd(name: string, offset: number, length: number, size: number | undefined): StorageError {
    const has = size === undefined ? `it ends before byte ${offset}` : `it has ${size} bytes`;
    return new StorageError(
      `${name} in ${this.location} is shorter than expected (truncated?): wanted bytes ${offset}..${offset + length} but ${has}`,
      true,
      name,
    );
  }

  private where(operation: Operation): string {
    return `${operation === 'write' ? 'to' : 'in'} ${this.location}`;
  }
}

/** Opens an `azure:ACCOUNT/CONTAINER[/PREFIX]` location (see AzureStorage); does no I/O. */
export function openAzureStorage(location: string, env: NodeJS.ProcessEnv, options?: AzureStorageOptions): Storage {
  return new AzureStorage(location, env, options);
}

/**
 * Abandons a try that makes no progress for `idleMs`: a deadline that bytes moving push
 * back, so a large object on a slow link is not cut off while a dead connection is.
 */
class StallWatchdog {
  /** True once the deadline passed and the try was aborted. */
  stalled = false;
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;

  constructor(idleMs: number) {
    this.timer = setTimeout(() => {
      this.stalled = true;
      this.controller.abort();
    }, idleMs);
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Called as bytes move: pushes the deadline back. */
  readonly progress = (): void => {
    this.timer.refresh();
  };

  stop(): void {
    clearTimeout(this.timer);
  }
}

/** The response body could not be read to its end: the network's fault, so worth another try. */
class InterruptedDownload extends Error {}

/** One try of a download: no SDK-internal resumption (withRetries retries), progress feeds the watchdog. */
function downloadOptions(watchdog: StallWatchdog) {
  return { abortSignal: watchdog.signal, maxRetryRequests: 0, onProgress: watchdog.progress };
}

async function readBody(response: BlobDownloadResponseParsed): Promise<Buffer> {
  // In Node the SDK always streams the body; the watchdog's abort destroys the stream.
  try {
    return await readAll(response.readableStreamBody!);
  } catch (err) {
    throw new InterruptedDownload('download interrupted', { cause: err });
  }
}

/** A v1 pipeline policy (the SDK's supported extension point) sending every request through `agent`. */
function useAgent(agent: http.Agent): RequestPolicyFactory {
  return {
    create: (next) => ({
      sendRequest(request) {
        // A proxy policy may already have set its own agent; that one must win.
        request.agent ??= agent;
        return next.sendRequest(request);
      },
    }),
  };
}

function isTransientStatus(status: number, code: string | undefined): boolean {
  if (status === 408 || status === 429 || status >= 500) return true;
  // A commit whose staged blocks a concurrent writer's commit of the same name discarded: writing again succeeds.
  return status === 400 && code === 'InvalidBlockList';
}

function httpStatus(err: unknown): number | undefined {
  const status = (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

/** Azure's error code (BlobNotFound, AuthorizationFailure…): in the body, or only in a header for HEAD requests. */
function azureErrorCode(err: unknown): string | undefined {
  const e = err as { code?: unknown; details?: { errorCode?: unknown } } | null;
  const code = e?.details?.errorCode ?? e?.code;
  return typeof code === 'string' ? code : undefined;
}

/** `HTTP 403 AuthorizationFailure: Server failed to authenticate the request.`: Azure's message without its request id and time lines. */
function restErrorSummary(err: unknown): string {
  const code = azureErrorCode(err);
  const head = `HTTP ${httpStatus(err)}${code ? ` ${code}` : ''}`;
  // Answers to HEAD requests have no body, hence no message.
  const firstLine = messageOf(err).split('\n')[0].trim();
  return firstLine ? `${head}: ${firstLine}` : head;
}

function messageOf(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  // A SAS in a URL that found its way into a message must not reach logs.
  return message.replace(/([?&]sig=)[^&\s]*/gi, '$1REDACTED');
}

/** The object's size from a Content-Range such as `bytes 15-19/20`. */
function totalSize(contentRange: string | undefined): number | undefined {
  const total = /\/(\d+)$/.exec(contentRange ?? '')?.[1];
  return total === undefined ? undefined : Number(total);
}
