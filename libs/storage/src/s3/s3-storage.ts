import * as http from 'node:http';
import * as https from 'node:https';
import { Readable } from 'node:stream';
// Types only: the SDK is loaded on the first call (see connect()), so the CLI and the agent
// pay nothing for it unless a repository is in S3.
import type * as S3Sdk from '@aws-sdk/client-s3';
import type { S3Client, S3ClientConfig, StorageClass } from '@aws-sdk/client-s3';
import { assertObjectName } from '../object-names';
import { DEFAULT_RETRY_POLICY, withRetries } from '../retry';
import type { RetryPolicy } from '../retry';
import { AccessDeniedError, AlreadyExistsError, existsByStat, NotFoundError, StorageError } from '../storage';
import type { ObjectInfo, PutOptions, Storage } from '../storage';
import { describeS3Failure, httpStatusOf, isAccessDenied } from './s3-errors';
import { parseS3Location } from './s3-location';
import type { S3Location } from './s3-location';
import { MISSING_CREDENTIALS, readS3Settings } from './s3-settings';
import type { S3Settings } from './s3-settings';

const MiB = 1024 * 1024;

/** Tuning of an S3Storage; the defaults suit production, tests shrink them. */
export interface S3StorageOptions {
  /** Retries of each request that failed transiently; default DEFAULT_RETRY_POLICY (about 30 s in all). */
  retryPolicy?: RetryPolicy;
  /** Time allowed to open a connection; default 10 s. */
  connectTimeoutMs?: number;
  /**
   * Time a request may go without a byte moving either way before it is abandoned (and
   * retried); default 60 s. An idle limit rather than a deadline for the whole request, which
   * would have to grow with the object and shrink with the link.
   */
  idleTimeoutMs?: number;
  /**
   * Objects larger than this go up in parts; default 64 MiB. Packs (16 MiB at most) and index
   * objects then take one PUT each, one round trip, and a failed try resends at most that much.
   * Only exceptional objects are split, where resending one part beats resending everything.
   */
  multipartThreshold?: number;
  /** Size of each part but the last; default 16 MiB, at least S3's minimum of 5 MiB. */
  multipartPartSize?: number;
  /** Keys per ListObjectsV2 page; default 1000, S3's maximum. */
  listPageSize?: number;
}

/** S3 refuses smaller parts, except the last. */
const MIN_PART_SIZE = 5 * MiB;
/** S3 allows no more parts per upload; larger objects get larger parts. */
const MAX_PARTS = 10_000;
/** Parts of one object in flight at once. */
const PART_CONCURRENCY = 4;
/**
 * Sockets per endpoint, kept alive (no TLS handshake per request), and enough that packs
 * uploaded in parallel while others are read never queue for one. The agents are our own,
 * not the SDK's, because the SDK gives each request it sends with `Expect: 100-continue`
 * (every PUT over 2 MB) a new unpooled connection unless the agent is the caller's.
 */
const MAX_SOCKETS = 50;

const DEFAULTS = {
  connectTimeoutMs: 10_000,
  idleTimeoutMs: 60_000,
  multipartThreshold: 64 * MiB,
  multipartPartSize: 16 * MiB,
  listPageSize: 1000,
};

type Operation = 'put' | 'get' | 'getRange' | 'stat' | 'list' | 'delete';

/** What every write of an object states besides its bytes. */
type ObjectHeaders = Pick<S3Sdk.PutObjectCommandInput, 'Bucket' | 'Key' | 'ContentType' | 'StorageClass'>;

/** The SDK module and a client made from it, created together on first use. */
interface Connection {
  sdk: typeof S3Sdk;
  client: S3Client;
}

/**
 * Storage in an S3 bucket (AWS or any S3-compatible service), under an optional key prefix:
 * object `name` is key `PREFIX/name`.
 *
 * Every request is retried on its own (see retry.ts): the SDK's own retries are off, so a
 * request is never tried more often than the policy says. See docs/storage.md for the
 * settings, and the permissions a writer and a maintainer need.
 */
export class S3Storage implements Storage {
  /** `s3:<endpoint>/<bucket>[/<prefix>]`; no credentials. */
  readonly location: string;
  private readonly where: S3Location;
  private readonly settings: S3Settings;
  private readonly retryPolicy: RetryPolicy;
  private readonly tuning: Required<Omit<S3StorageOptions, 'retryPolicy'>>;
  private connection?: Promise<Connection>;
  private closed = false;
  /** Cleared when the service answers `If-None-Match` with 501; see putExclusive. */
  private conditionalWrites = true;

  /** Parses the location and reads `env` (see readS3Settings); throws a permanent StorageError for a bad one. Does no I/O. */
  constructor(location: string, env: NodeJS.ProcessEnv, options: S3StorageOptions = {}) {
    this.where = parseS3Location(location);
    this.location = this.where.display;
    this.settings = readS3Settings(this.where, env);
    this.retryPolicy = options.retryPolicy ?? DEFAULT_RETRY_POLICY;
    this.tuning = {
      connectTimeoutMs: options.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs,
      idleTimeoutMs: options.idleTimeoutMs ?? DEFAULTS.idleTimeoutMs,
      multipartThreshold: options.multipartThreshold ?? DEFAULTS.multipartThreshold,
      multipartPartSize: options.multipartPartSize ?? DEFAULTS.multipartPartSize,
      listPageSize: options.listPageSize ?? DEFAULTS.listPageSize,
    };
    if (this.tuning.multipartPartSize < MIN_PART_SIZE) {
      throw new StorageError(`${this.location}: multipart part size ${this.tuning.multipartPartSize} is below S3's minimum of ${MIN_PART_SIZE}`, true);
    }
  }

  async put(name: string, data: Uint8Array, options: PutOptions = {}): Promise<void> {
    const key = this.keyOf(name);
    // Only objects under data/ are big and rarely read; see docs/storage.md "Storage class".
    const storageClass = name.startsWith('data/') ? (this.settings.dataStorageClass as StorageClass | undefined) : undefined;
    const object: ObjectHeaders = { Bucket: this.where.bucket, Key: key, ContentType: 'application/octet-stream', StorageClass: storageClass };
    if (options.exclusive) {
      await this.putExclusive(name, object, data);
    } else if (data.byteLength > this.tuning.multipartThreshold) {
      await this.putInParts(name, object, data);
    } else {
      await this.attempt('put', name, ({ sdk, client }) =>
        client.send(new sdk.PutObjectCommand({ ...object, Body: data, ContentLength: data.byteLength })),
      );
    }
  }

  async get(name: string): Promise<Buffer> {
    const key = this.keyOf(name);
    return this.attempt('get', name, async ({ sdk, client }) => {
      const answer = await client.send(new sdk.GetObjectCommand({ Bucket: this.where.bucket, Key: key }));
      return bodyOf(answer);
    });
  }

  async getRange(name: string, offset: number, length: number): Promise<Buffer> {
    const key = this.keyOf(name);
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
      throw new StorageError(`${this.location}: getRange ${name} failed: invalid range offset=${offset} length=${length}`, true, name);
    }
    if (length === 0) {
      // HTTP cannot ask for no bytes; the object must still exist and reach the offset.
      const { size } = await this.stat(name);
      if (offset > size) throw this.beyondEnd(name, offset, length, size);
      return Buffer.alloc(0);
    }
    return this.attempt('getRange', name, async ({ sdk, client }) => {
      let answer: S3Sdk.GetObjectCommandOutput;
      try {
        answer = await client.send(new sdk.GetObjectCommand({ Bucket: this.where.bucket, Key: key, Range: `bytes=${offset}-${offset + length - 1}` }));
      } catch (err) {
        if (httpStatusOf(err) === 416) throw this.beyondEnd(name, offset, length);
        throw err;
      }
      const body = await bodyOf(answer);
      // S3 cuts a range that runs past the end short; a server that ignores Range sends everything.
      const part = answer.ContentRange === undefined ? body.subarray(offset, offset + length) : body;
      if (part.length !== length) throw this.beyondEnd(name, offset, length, totalSizeOf(answer.ContentRange) ?? body.length);
      return part;
    });
  }

  async stat(name: string): Promise<ObjectInfo> {
    const key = this.keyOf(name);
    return this.attempt('stat', name, async ({ sdk, client }) => {
      const answer = await client.send(new sdk.HeadObjectCommand({ Bucket: this.where.bucket, Key: key }));
      return { name, size: answer.ContentLength ?? 0 };
    });
  }

  exists(name: string): Promise<boolean> {
    return existsByStat(this, name);
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    const keyPrefix = `${this.keyOf(prefix, 'prefix')}/`;
    const dropped = this.where.prefix === '' ? 0 : this.where.prefix.length + 1;
    let token: string | undefined;
    do {
      // Each page is a request of its own, retried on its own.
      const page = await this.attempt('list', prefix, ({ sdk, client }) =>
        client.send(
          new sdk.ListObjectsV2Command({ Bucket: this.where.bucket, Prefix: keyPrefix, ContinuationToken: token, MaxKeys: this.tuning.listPageSize }),
        ),
      );
      for (const entry of page.Contents ?? []) {
        // "Folders" made in a web console are empty keys ending in '/', not objects.
        if (entry.Key === undefined || entry.Key.endsWith('/')) continue;
        yield { name: entry.Key.slice(dropped), size: entry.Size ?? 0 };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
  }

  async delete(name: string): Promise<void> {
    const key = this.keyOf(name);
    await this.attempt('delete', name, async ({ sdk, client }) => {
      try {
        await client.send(new sdk.DeleteObjectCommand({ Bucket: this.where.bucket, Key: key }));
      } catch (err) {
        // S3 answers 204 for a missing key; some compatible services answer 404. Both are success.
        if (httpStatusOf(err) === 404 && describeS3Failure(err).code !== 'NoSuchBucket') return;
        throw err;
      }
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const connection = await this.connection?.catch(() => undefined);
    // Also destroys the keep-alive agents, so no socket keeps the process alive.
    connection?.client.destroy();
  }

  /**
   * Creates the object unless its name is taken. The PUT carries `If-None-Match: *`, which
   * S3 (since 2024) and most compatible services honour atomically: of several concurrent
   * writers exactly one succeeds, the others get 412. The HEAD before it is for services
   * that ignore the header and would silently replace the object.
   *
   * Where the service rejects the header (501), this falls back to HEAD-then-PUT, which
   * has a race: two writers that both HEAD before either PUTs both "create" the object, and
   * the later one replaces the first. Coffer puts exclusively the repository config at
   * `init`, so that takes two inits of the same location at the same moment.
   */
  private async putExclusive(name: string, object: ObjectHeaders, data: Uint8Array): Promise<void> {
    if (await this.exists(name)) throw new AlreadyExistsError(this.location, name);
    const input = { ...object, Body: data, ContentLength: data.byteLength };
    let triedBefore = false;
    await this.attempt('put', name, async ({ sdk, client }) => {
      try {
        await client.send(new sdk.PutObjectCommand({ ...input, IfNoneMatch: this.conditionalWrites ? '*' : undefined }));
      } catch (err) {
        const status = httpStatusOf(err);
        if (status === 412) {
          // An earlier try may have stored the object and lost the answer: then the object is ours.
          if (triedBefore && (await this.holds(name, data))) return;
          throw new AlreadyExistsError(this.location, name);
        }
        if (status === 501 && this.conditionalWrites) {
          this.conditionalWrites = false;
          await client.send(new sdk.PutObjectCommand(input));
          return;
        }
        triedBefore = true;
        throw err;
      }
    });
  }

  /** Whether the stored object is exactly `data`. */
  private async holds(name: string, data: Uint8Array): Promise<boolean> {
    const stored = await this.get(name).catch(() => undefined);
    return stored !== undefined && stored.equals(data);
  }

  /**
   * Multipart upload: each part is retried on its own, and a failure aborts the upload so
   * its parts are not billed forever (the lifecycle rule in docs/storage.md catches an abort
   * that failed too). The object appears only when the upload completes, whole.
   */
  private async putInParts(name: string, object: ObjectHeaders, data: Uint8Array): Promise<void> {
    const { UploadId } = await this.attempt('put', name, ({ sdk, client }) => client.send(new sdk.CreateMultipartUploadCommand(object)));
    const upload = { Bucket: object.Bucket, Key: object.Key, UploadId };
    const partSize = Math.max(this.tuning.multipartPartSize, Math.ceil(data.byteLength / MAX_PARTS));
    const parts = Array.from({ length: Math.ceil(data.byteLength / partSize) }, (_, i) => ({
      PartNumber: i + 1,
      Body: data.subarray(i * partSize, Math.min(data.byteLength, (i + 1) * partSize)),
      ETag: undefined as string | undefined,
    }));
    try {
      await forEachConcurrently(parts, PART_CONCURRENCY, async (part) => {
        const answer = await this.attempt('put', name, ({ sdk, client }) =>
          client.send(new sdk.UploadPartCommand({ ...upload, PartNumber: part.PartNumber, Body: part.Body, ContentLength: part.Body.byteLength })),
        );
        part.ETag = answer.ETag;
      });
      await this.attempt('put', name, ({ sdk, client }) =>
        client.send(
          new sdk.CompleteMultipartUploadCommand({ ...upload, MultipartUpload: { Parts: parts.map(({ PartNumber, ETag }) => ({ PartNumber, ETag })) } }),
        ),
      );
    } catch (err) {
      await this.connect()
        .then(({ sdk, client }) => client.send(new sdk.AbortMultipartUploadCommand(upload)))
        .catch(() => undefined);
      throw err;
    }
  }

  /**
   * Runs one request with retries; every failure becomes a StorageError naming the location
   * and the object, transient or permanent as describeS3Failure judges it.
   */
  private attempt<T>(operation: Operation, name: string, request: (connection: Connection) => Promise<T>): Promise<T> {
    return withRetries(async () => {
      try {
        return await request(await this.connect());
      } catch (err) {
        throw this.failure(operation, name, err);
      }
    }, this.retryPolicy);
  }

  private connect(): Promise<Connection> {
    if (this.closed) return Promise.reject(new Error('the storage is closed'));
    this.connection ??= this.openConnection();
    return this.connection;
  }

  private async openConnection(): Promise<Connection> {
    const credentials = this.settings.credentials;
    if (credentials.kind === 'none') throw new Error(MISSING_CREDENTIALS);
    // The SDK warns on stderr, in seven lines, that it will drop Node 20 in 2026; that would
    // break the CLI's one-line messages on every S3 command. Node 20 is this project's target.
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
    const sdk = await import('@aws-sdk/client-s3');
    const config: S3ClientConfig = {
      endpoint: this.where.endpoint,
      region: this.settings.region,
      forcePathStyle: this.settings.forcePathStyle,
      credentials:
        credentials.kind === 'keys'
          ? { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey, sessionToken: credentials.sessionToken }
          : (await import('@aws-sdk/credential-provider-ini')).fromIni({
              profile: credentials.profile,
              filepath: credentials.credentialsFile,
              configFilepath: credentials.configFile,
              clientConfig: { region: this.settings.region },
            }),
      maxAttempts: 1,
      followRegionRedirects: true,
      requestHandler: {
        httpAgent: new http.Agent({ keepAlive: true, maxSockets: MAX_SOCKETS }),
        httpsAgent: new https.Agent({ keepAlive: true, maxSockets: MAX_SOCKETS }),
        connectionTimeout: this.tuning.connectTimeoutMs,
        socketTimeout: this.tuning.idleTimeoutMs,
      },
      // Set here so that no process-wide AWS_* variable changes what `env` configured.
      useFipsEndpoint: false,
      useDualstackEndpoint: false,
      // Objects are authenticated by the repository's encryption and checked on every read;
      // the SDK's newer default checksums are not accepted by every S3-compatible service.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    };
    return { sdk, client: new sdk.S3Client(config) };
  }

  private failure(operation: Operation, name: string, err: unknown): StorageError {
    if (err instanceof StorageError) return err;
    const failure = describeS3Failure(err);
    const reading = operation === 'get' || operation === 'getRange' || operation === 'stat';
    if (reading && failure.status === 404 && failure.code !== 'NoSuchBucket') return new NotFoundError(this.location, name);
    if (isAccessDenied(failure)) return new AccessDeniedError(this.location, operation, name, failure.detail, { cause: err });
    return new StorageError(`${this.location}: ${operation} ${name} failed: ${failure.detail}`, !failure.transient, name, { cause: err });
  }

  private beyondEnd(name: string, offset: number, length: number, size?: number): StorageError {
    const has = size === undefined ? 'the object is shorter' : `the object has ${size} bytes`;
    return new StorageError(
      `${this.location}: getRange ${name} failed: wanted bytes ${offset}..${offset + length} but ${has} (truncated?)`,
      true,
      name,
    );
  }

  /** The key of a logical name (or list prefix); unsafe names are refused, as by every driver. */
  private keyOf(name: string, what: 'name' | 'prefix' = 'name'): string {
    assertObjectName(this.location, name, what);
    return this.where.prefix === '' ? name : `${this.where.prefix}/${name}`;
  }
}

/** Opens the `s3:` location with settings and credentials from `env`; see S3Storage. Does no I/O. */
export function openS3Storage(location: string, env: NodeJS.ProcessEnv): Storage {
  return new S3Storage(location, env);
}


/**
 * The whole body of a GetObject answer. A Node stream of known length is copied straight into
 * one buffer of that size as it arrives: the SDK's collector keeps every chunk, then copies them
 * into a zero-filled array, which for pack reads of megabytes costs a second pass and garbage.
 * A body shorter than announced comes back short, as from the SDK (callers check lengths).
 */
async function bodyOf(answer: S3Sdk.GetObjectCommandOutput): Promise<Buffer> {
  const body = answer.Body;
  if (body === undefined) return Buffer.alloc(0);
  const length = answer.ContentLength;
  if (body instanceof Readable && length !== undefined && Number.isSafeInteger(length) && length >= 0) {
    const out = Buffer.allocUnsafe(length);
    let filled = 0;
    for await (const chunk of body as AsyncIterable<Buffer>) {
      if (filled + chunk.length > length) throw new Error(`the answer has more than the ${length} bytes it announced`);
      filled += chunk.copy(out, filled);
    }
    return filled === length ? out : out.subarray(0, filled);
  }
  const bytes = await body.transformToByteArray();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** SIZE in `bytes A-B/SIZE`, when the server said. */
function totalSizeOf(contentRange: string | undefined): number | undefined {
  const total = /\/(\d+)$/.exec(contentRange ?? '')?.[1];
  return total === undefined ? undefined : Number(total);
}

/** Runs `work` over `items`, at most `limit` at once; after a failure starts no more, waits for those running, and throws it. */
async function forEachConcurrently<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (failure === undefined && next < items.length) {
      const item = items[next++];
      await work(item).catch((error: unknown) => {
        failure ??= { error };
      });
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure !== undefined) throw failure.error;
}

