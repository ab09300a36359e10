import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { link, mkdir, mkdtemp, rename, rm, unlink, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Transform } from 'node:stream';
import type { Readable, TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** A running S3-compatible server on loopback; see startS3TestServer. */
export interface S3TestServer {
  /** `http://127.0.0.1:PORT`. */
  readonly endpoint: string;
  /** A bucket created empty for this server. */
  readonly bucket: string;
  /** Credentials the server accepts, and a region: what a driver or a tool needs in its environment. */
  readonly env: Readonly<Record<'AWS_ACCESS_KEY_ID' | 'AWS_SECRET_ACCESS_KEY' | 'AWS_REGION', string>>;
  /** `s3:http://127.0.0.1:PORT/BUCKET/prefix`: a repository location under `prefix` in the bucket. */
  location(prefix: string): string;
  /** Stops the server and deletes everything it stored. */
  stop(): Promise<void>;
}

/** Options of startS3TestServer. */
export interface S3TestServerOptions {
  /** Where objects are kept; default a new directory under the system temp dir. Removed by stop(). */
  directory?: string;
}

/** The access key s3rver knows; it checks no V4 signature, so the secret is not verified. */
const ACCESS_KEY = 'S3RVER';

/**
 * Starts s3rver (an S3 emulator written for Node) in this process on 127.0.0.1, port 0,
 * with a fresh bucket. s3rver 3.7 falls short of S3 where Coffer's storage contract depends
 * on it, so four gaps are filled here, in the server, not in the driver under test:
 *
 * - PUT wrote straight into the object's file and answered before the data was written: a
 *   reader could see half an object, and an upload cut mid-body left one behind. Objects and
 *   parts are now written to a temp file and renamed into place once complete.
 * - `If-None-Match: *` on PUT (S3's conditional write) was ignored; it now fails with
 *   412 PreconditionFailed when the key exists, decided atomically by link(2).
 * - ListObjectsV2 continuation tokens were DES-encrypted, which Node 17+ (OpenSSL 3) cannot
 *   do, so every listing with more than one page failed with a 500.
 * - `aws-chunked` bodies (streaming SigV4, which minio-go and so restic use over plain HTTP)
 *   were stored with their chunk headers; they are decoded now (chunk signatures unchecked).
 *
 * s3rver checks the access key id, not V4 signatures.
 */
export async function startS3TestServer(options: S3TestServerOptions = {}): Promise<S3TestServer> {
  const directory = options.directory ?? (await mkdtemp(path.join(tmpdir(), 'coffer-s3rver-')));
  const bucket = `coffer-test-${randomBytes(4).toString('hex')}`;
  let server: S3rver;
  let address: AddressInfo;
  try {
    // Loaded on demand: importing the testing helpers must not pull in every server they can start.
    // A require, typed below, because s3rver ships no type declarations.
    const S3rverClass = require('s3rver') as new (options: object) => S3rver;
    server = new S3rverClass({ address: '127.0.0.1', port: 0, directory, silent: true, configureBuckets: [{ name: bucket }] });
    fillS3rverGaps(server);
    address = await server.run();
  } catch (err) {
    await rm(directory, { recursive: true, force: true });
    throw new Error(`cannot start the S3 test server (s3rver) in ${directory}: ${err instanceof Error ? err.message : String(err)}`, {
      cause: err,
    });
  }
  const endpoint = `http://127.0.0.1:${address.port}`;
  return {
    endpoint,
    bucket,
    env: { AWS_ACCESS_KEY_ID: ACCESS_KEY, AWS_SECRET_ACCESS_KEY: ACCESS_KEY, AWS_REGION: 'us-east-1' },
    location: (prefix) => `s3:${endpoint}/${bucket}${prefix ? `/${prefix}` : ''}`,
    async stop() {
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

// --- s3rver internals this file relies on (s3rver ships no types) --------------------------

interface S3rver {
  /** Koa's middleware stack; composed when the server starts listening. */
  middleware: KoaMiddleware[];
  context: { store: FilesystemStore };
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}

type KoaMiddleware = (ctx: KoaContext, next: () => Promise<void>) => Promise<void>;

interface KoaContext {
  method: string;
  query: Record<string, string | undefined>;
  body: unknown;
  req: Readable;
  store: FilesystemStore;
  get(header: string): string;
}

interface StoredObject {
  bucket: string;
  key: string;
  content: Readable | Buffer;
  metadata: Record<string, string>;
}

interface FilesystemStore {
  getResourcePath(bucket: string, key: string | undefined, resource: string): string;
  putMetadata(bucket: string, key: string, metadata: Record<string, string>, md5: string): Promise<void>;
  putObject(object: StoredObject): Promise<{ size: number; md5: string }>;
  putPart(bucket: string, uploadId: string, partNumber: number, content: Readable): Promise<{ size: number; md5: string }>;
}

type S3ErrorClass = new (code: string, message: string, detail?: Record<string, string>) => Error;

/** Patches the store and adds middleware in front of s3rver's router; see startS3TestServer. */
function fillS3rverGaps(server: S3rver): void {
  const S3Error = require('s3rver/lib/models/error') as S3ErrorClass;
  const store = server.context.store;

  const putObject = async (object: StoredObject, exclusive: boolean) => {
    const file = store.getResourcePath(object.bucket, object.key, 'object');
    const written = await writeWhole(file, object.content, exclusive).catch((err: unknown) => {
      if ((err as { code?: string }).code !== 'EEXIST') throw err;
      throw new S3Error('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', { Condition: 'If-None-Match' });
    });
    await store.putMetadata(object.bucket, object.key, object.metadata, written.md5);
    return written;
  };
  store.putObject = (object) => putObject(object, false);
  store.putPart = async (bucket, uploadId, partNumber, content) => {
    const file = path.join(store.getResourcePath(bucket, undefined, 'uploads'), uploadId, String(partNumber));
    const written = await writeWhole(file, content, false);
    await writeFile(`${file}.md5`, written.md5);
    return written;
  };

  const conditionalWrite: KoaMiddleware = async (ctx, next) => {
    // PUT, and POST for CompleteMultipartUpload; the store's multipart path calls this.putObject.
    if ((ctx.method === 'PUT' || ctx.method === 'POST') && ctx.get('if-none-match') === '*') {
      ctx.store = Object.create(store, { putObject: { value: (object: StoredObject) => putObject(object, true) } }) as FilesystemStore;
    }
    await next();
  };

  const decodeAwsChunked: KoaMiddleware = async (ctx, next) => {
    if (ctx.get('x-amz-content-sha256').startsWith('STREAMING-')) {
      const decoded = new AwsChunkedDecoder();
      // A cut upload must fail the write, not leave it waiting for the rest.
      pipeline(ctx.req, decoded).catch((err: unknown) => decoded.destroy(err as Error));
      ctx.req = decoded;
    }
    await next();
  };

  const listV2WithPlainTokens: KoaMiddleware = async (ctx, next) => {
    if (ctx.method !== 'GET' || ctx.query['list-type'] !== '2') return next();
    // Served as a V1 listing, whose marker needs no cipher; the token is just the last key, base64url.
    const { 'continuation-token': token, 'start-after': startAfter } = ctx.query;
    const marker = token !== undefined ? Buffer.from(token, 'base64url').toString() : startAfter;
    ctx.query = { ...without(ctx.query, ['list-type', 'continuation-token', 'start-after']), ...(marker ? { marker } : {}) };
    await next();
    const result = (ctx.body as { ListBucketResult?: ListingV1 } | undefined)?.ListBucketResult;
    if (result === undefined) return;
    const lastKey = result.NextMarker ?? result.Contents.at(-1)?.Key;
    ctx.body = {
      ListBucketResult: {
        ...without(result, ['Marker', 'NextMarker']),
        ContinuationToken: token,
        StartAfter: token === undefined ? startAfter : undefined,
        KeyCount: result.Contents.length,
        NextContinuationToken: result.IsTruncated && lastKey !== undefined ? Buffer.from(lastKey).toString('base64url') : undefined,
      },
    };
  };

  // In front of the router, the last middleware, so they see every S3 request first.
  server.middleware.splice(server.middleware.length - 1, 0, conditionalWrite, decodeAwsChunked, listV2WithPlainTokens);
}

function without<T extends object>(record: T, keys: string[]): Partial<T> {
  return Object.fromEntries(Object.entries(record).filter(([key]) => !keys.includes(key))) as Partial<T>;
}

interface ListingV1 {
  Marker?: string;
  NextMarker?: string;
  IsTruncated: boolean;
  Contents: { Key: string }[];
}

/**
 * Writes `content` to a temp file beside `file`, then moves it into place: by rename(2), or
 * with `exclusive` by link(2), which fails with EEXIST when `file` exists. Readers and
 * listings never see a partial file (s3rver lists only names ending in `._S3rver_object`).
 */
async function writeWhole(file: string, content: Readable | Buffer, exclusive: boolean): Promise<{ size: number; md5: string }> {
  await mkdir(path.dirname(file), { recursive: true });
  const temp = `${file}.${randomBytes(6).toString('hex')}.uploading`;
  const md5 = createHash('md5');
  let size = 0;
  try {
    if (Buffer.isBuffer(content)) {
      md5.update(content);
      size = content.length;
      await writeFile(temp, content);
    } else {
      const measure = new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          md5.update(chunk);
          size += chunk.length;
          callback(null, chunk);
        },
      });
      await pipeline(content, measure, createWriteStream(temp));
    }
    if (exclusive) await link(temp, file);
    else await rename(temp, file);
  } finally {
    await unlink(temp).catch(() => undefined);
  }
  return { size, md5: md5.digest('hex') };
}

/**
 * Decodes an `aws-chunked` body: chunks of `<hex size>[;chunk-signature=…]\r\n<bytes>\r\n`,
 * ended by a chunk of size 0 and optional trailer lines, which are dropped.
 */
class AwsChunkedDecoder extends Transform {
  /** An incomplete header line carried over to the next write. */
  private pending = Buffer.alloc(0);
  /** Data bytes of the current chunk not yet passed on. */
  private remaining = 0;
  private ended = false;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    let input = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    while (!this.ended && input.length > 0) {
      if (this.remaining > 0) {
        const take = Math.min(this.remaining, input.length);
        this.push(input.subarray(0, take));
        input = input.subarray(take);
        this.remaining -= take;
        continue;
      }
      const lineEnd = input.indexOf('\r\n');
      if (lineEnd < 0) break;
      const line = input.subarray(0, lineEnd).toString('latin1');
      input = input.subarray(lineEnd + 2);
      if (line === '') continue; // the CRLF after a chunk's data
      const size = parseInt(line.split(';')[0], 16);
      if (!Number.isSafeInteger(size)) return callback(new Error(`malformed aws-chunked body: chunk header ${JSON.stringify(line)}`));
      if (size === 0) this.ended = true;
      this.remaining = size;
    }
    this.pending = this.ended ? Buffer.alloc(0) : Buffer.from(input);
    callback();
  }
}
