import { StorageError } from '../storage';

/** The forms an `s3:` location may take, quoted in every refusal. */
export const S3_LOCATION_FORMS = 's3:https://HOST[:PORT]/BUCKET[/PREFIX], s3:http://HOST:PORT/BUCKET[/PREFIX], or s3:HOST[:PORT]/BUCKET[/PREFIX] (https)';

/** Where a repository lives in S3, parsed from its location. */
export interface S3Location {
  /** `https://host[:port]` or `http://host:port`: the service endpoint, without the bucket. */
  endpoint: string;
  bucket: string;
  /** Key prefix of every object, without leading or trailing '/'; '' for the bucket's root. */
  prefix: string;
  /** The canonical form, `s3:<endpoint>/<bucket>[/<prefix>]`, for messages; never holds a secret. */
  display: string;
  /** True for Amazon's own endpoints (`*.amazonaws.com`), which default to virtual-host addressing. */
  isAws: boolean;
  /** The region an Amazon endpoint names (`s3.eu-west-1.amazonaws.com`), if it names one. */
  awsRegion?: string;
}

/** Bucket names S3-compatible services accept: AWS's rules, plus upper case and '_' some others allow. */
const BUCKET_NAME = /^[a-zA-Z0-9][a-zA-Z0-9._-]{1,61}[a-zA-Z0-9]$/;

/** `s3.eu-west-1.amazonaws.com`, `s3-eu-west-1.amazonaws.com`, `s3.dualstack.eu-west-1.amazonaws.com`. */
const AWS_REGIONAL_HOST = /^s3[.-](?:dualstack\.)?([a-z]{2}(?:-[a-z]+)+-\d+)\.amazonaws\.com(?:\.cn)?$/;

/**
 * Parses `s3:http(s)://HOST[:PORT]/BUCKET[/PREFIX]` or restic's bare `s3:HOST[:PORT]/BUCKET[/PREFIX]`
 * (https). Throws a permanent StorageError saying what is wrong and which forms are expected.
 * Credentials in the URL are refused: they belong in AWS_* variables, not in a string that is logged.
 */
export function parseS3Location(location: string): S3Location {
  const refuse = (problem: string, shown = location): never => {
    throw new StorageError(`storage "${shown}" is not a usable S3 location: ${problem} (expected ${S3_LOCATION_FORMS})`, true);
  };
  const rest = location.replace(/^s3:/i, '');
  if (rest.startsWith('//')) {
    refuse('s3://BUCKET is the AWS CLI form, without the service; for Amazon S3 write s3:https://s3.REGION.amazonaws.com/BUCKET[/PREFIX]');
  }
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(rest) ? rest : `https://${rest}`;
  // Refused before anything else, and without echoing the location, which holds a secret.
  if (/^[^/]*\/\/[^/]*@/.test(withScheme)) refuse('credentials do not go in the location: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY', 's3:…');
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    return refuse('it is not a URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') refuse(`the scheme must be http or https, not ${url.protocol.slice(0, -1)}`);
  if (url.search !== '' || url.hash !== '') refuse('a query string or fragment is not allowed');
  // The path as written: URL() would resolve "a/../b" to "b" and so hide a mistake.
  const writtenPath = withScheme.replace(/^[^:]*:\/\/[^/]*/, '');
  const [bucket = '', ...prefixSegments] = writtenPath.replace(/^\/+|\/+$/g, '').split('/');
  if (bucket === '') refuse('the bucket is missing');
  if (!BUCKET_NAME.test(bucket)) refuse(`"${bucket}" is not a bucket name (3 to 63 letters, digits, '.', '-' or '_')`);
  const badSegment = prefixSegments.find((s) => s === '' || s === '.' || s === '..');
  if (badSegment !== undefined) refuse(`the prefix has ${badSegment === '' ? 'an empty' : `a "${badSegment}"`} path segment`);
  const prefix = prefixSegments.join('/');
  const host = url.host.toLowerCase();
  const endpoint = `${url.protocol}//${host}`;
  return {
    endpoint,
    bucket,
    prefix,
    display: `s3:${endpoint}/${bucket}${prefix === '' ? '' : `/${prefix}`}`,
    isAws: /\.amazonaws\.com(\.cn)?$/.test(url.hostname.toLowerCase()),
    awsRegion: AWS_REGIONAL_HOST.exec(url.hostname.toLowerCase())?.[1],
  };
}

