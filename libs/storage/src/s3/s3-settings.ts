import { homedir } from 'node:os';
import * as path from 'node:path';
import { StorageError } from '../storage';
import type { S3Location } from './s3-location';

/** How the driver finds its credentials; resolved without I/O, used on first call. */
export type S3CredentialSource =
  | { kind: 'keys'; accessKeyId: string; secretAccessKey: string; sessionToken?: string }
  /** A profile in the shared files, read by the SDK's ini provider (which also runs credential_process, SSO, role_arn). */
  | { kind: 'profile'; profile: string; credentialsFile: string; configFile: string }
  | { kind: 'none' };

/** What the environment says about talking to S3, checked once when the storage is opened. */
export interface S3Settings {
  region: string;
  /** Path-style (`endpoint/bucket/key`) rather than virtual-host (`bucket.endpoint/key`) requests. */
  forcePathStyle: boolean;
  /** Storage class of `data/` objects; undefined leaves the bucket's default (STANDARD on AWS). */
  dataStorageClass?: string;
  credentials: S3CredentialSource;
}

/** What to set when no credentials are found, quoted in the error of the first call. */
export const MISSING_CREDENTIALS =
  'no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary ones), ' +
  'or AWS_PROFILE with AWS_SHARED_CREDENTIALS_FILE / AWS_CONFIG_FILE when the files are not in ~/.aws';

/**
 * Storage classes whose objects cannot be read without a restore request first: a repository
 * there could be written but neither checked nor restored from.
 */
const ARCHIVE_CLASSES: ReadonlySet<string> = new Set(['GLACIER', 'DEEP_ARCHIVE']);

/**
 * Reads the S3 settings from `env` (the job's variables, or process.env; never read directly).
 * Every bad variable is reported at once, in one permanent StorageError naming the location.
 * Missing credentials are not an error here: a storage can be opened to check its location,
 * and the first call says what to set.
 */
export function readS3Settings(location: S3Location, env: NodeJS.ProcessEnv): S3Settings {
  const value = (name: string): string | undefined => (env[name] === '' ? undefined : env[name]);
  const problems: string[] = [];

  const addressing = value('COFFER_S3_ADDRESSING');
  if (addressing !== undefined && addressing !== 'path' && addressing !== 'virtual') {
    problems.push(`COFFER_S3_ADDRESSING=${addressing} must be "path" or "virtual"`);
  }

  const storageClass = value('COFFER_S3_STORAGE_CLASS');
  if (storageClass !== undefined && !/^[A-Z][A-Z0-9_]*$/.test(storageClass)) {
    problems.push(`COFFER_S3_STORAGE_CLASS=${storageClass} is not a storage class name (e.g. STANDARD_IA, INTELLIGENT_TIERING, GLACIER_IR)`);
  } else if (storageClass !== undefined && ARCHIVE_CLASSES.has(storageClass)) {
    problems.push(`COFFER_S3_STORAGE_CLASS=${storageClass} is an archive class whose objects cannot be read without a restore; use GLACIER_IR or STANDARD_IA`);
  }

  const accessKeyId = value('AWS_ACCESS_KEY_ID');
  const secretAccessKey = value('AWS_SECRET_ACCESS_KEY');
  if ((accessKeyId === undefined) !== (secretAccessKey === undefined)) {
    problems.push(accessKeyId === undefined ? 'AWS_SECRET_ACCESS_KEY is set without AWS_ACCESS_KEY_ID' : 'AWS_ACCESS_KEY_ID is set without AWS_SECRET_ACCESS_KEY');
  }

  if (problems.length > 0) throw new StorageError(`${location.display}: bad S3 settings: ${problems.join('; ')}`, true);

  return {
    region: value('AWS_REGION') ?? value('AWS_DEFAULT_REGION') ?? location.awsRegion ?? 'us-east-1',
    forcePathStyle: addressing === undefined ? !location.isAws : addressing === 'path',
    dataStorageClass: storageClass,
    credentials: credentialSource(value),
  };
}

/** Keys first, then a profile, as the AWS CLI does; a profile is used once any of its variables is set. */
function credentialSource(value: (name: string) => string | undefined): S3CredentialSource {
  const accessKeyId = value('AWS_ACCESS_KEY_ID');
  const secretAccessKey = value('AWS_SECRET_ACCESS_KEY');
  if (accessKeyId !== undefined && secretAccessKey !== undefined) {
    return { kind: 'keys', accessKeyId, secretAccessKey, sessionToken: value('AWS_SESSION_TOKEN') };
  }
  const profile = value('AWS_PROFILE');
  const credentialsFile = value('AWS_SHARED_CREDENTIALS_FILE');
  const configFile = value('AWS_CONFIG_FILE');
  if (profile === undefined && credentialsFile === undefined && configFile === undefined) return { kind: 'none' };
  const awsDir = path.join(value('HOME') ?? homedir(), '.aws');
  return {
    kind: 'profile',
    profile: profile ?? 'default',
    credentialsFile: credentialsFile ?? path.join(awsDir, 'credentials'),
    configFile: configFile ?? path.join(awsDir, 'config'),
  };
}
