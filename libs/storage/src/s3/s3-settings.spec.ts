import { StorageError } from '../storage';
import { parseS3Location } from './s3-location';
import { readS3Settings } from './s3-settings';

const MINIO = parseS3Location('s3:http://127.0.0.1:9000/bucket/repo');
const AWS = parseS3Location('s3:https://s3.eu-central-1.amazonaws.com/bucket/repo');
const KEYS = { AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret' };

describe('readS3Settings', () => {
  it('takes keys, a session token and the region from the env map', () => {
    const settings = readS3Settings(MINIO, { ...KEYS, AWS_SESSION_TOKEN: 'token', AWS_DEFAULT_REGION: 'eu-north-1' });
    expect(settings.credentials).toEqual({ kind: 'keys', accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'secret', sessionToken: 'token' });
    expect(settings.region).toBe('eu-north-1');
    expect(readS3Settings(MINIO, { ...KEYS, AWS_REGION: 'ap-south-1', AWS_DEFAULT_REGION: 'eu-north-1' }).region).toBe('ap-south-1');
  });

  it('defaults the region to the one an Amazon endpoint names, else us-east-1', () => {
    expect(readS3Settings(AWS, KEYS).region).toBe('eu-central-1');
    expect(readS3Settings(MINIO, KEYS).region).toBe('us-east-1');
  });

  it('uses virtual-host addressing for Amazon and path-style elsewhere, unless told', () => {
    expect(readS3Settings(AWS, KEYS).forcePathStyle).toBe(false);
    expect(readS3Settings(MINIO, KEYS).forcePathStyle).toBe(true);
    expect(readS3Settings(AWS, { ...KEYS, COFFER_S3_ADDRESSING: 'path' }).forcePathStyle).toBe(true);
    expect(readS3Settings(MINIO, { ...KEYS, COFFER_S3_ADDRESSING: 'virtual' }).forcePathStyle).toBe(false);
  });

  it('reads a profile from the files the env map names, keys taking precedence', () => {
    const profileEnv = { AWS_PROFILE: 'backup', AWS_SHARED_CREDENTIALS_FILE: '/etc/coffer/credentials', HOME: '/home/coffer' };
    expect(readS3Settings(MINIO, profileEnv).credentials).toEqual({
      kind: 'profile',
      profile: 'backup',
      credentialsFile: '/etc/coffer/credentials',
      configFile: '/home/coffer/.aws/config',
    });
    expect(readS3Settings(MINIO, { ...profileEnv, ...KEYS }).credentials.kind).toBe('keys');
  });

  it('finds no credentials in an empty map, whatever process.env holds', () => {
    expect(readS3Settings(MINIO, {}).credentials).toEqual({ kind: 'none' });
    expect(readS3Settings(MINIO, { AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '' }).credentials).toEqual({ kind: 'none' });
  });

  it('names every bad variable in one permanent error', () => {
    let err: unknown;
    try {
      readS3Settings(MINIO, { AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE', COFFER_S3_ADDRESSING: 'sideways', COFFER_S3_STORAGE_CLASS: 'DEEP_ARCHIVE' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StorageError);
    expect((err as StorageError).permanent).toBe(true);
    const message = (err as Error).message;
    expect(message).toContain(MINIO.display);
    expect(message).toContain('COFFER_S3_ADDRESSING=sideways must be "path" or "virtual"');
    expect(message).toContain('COFFER_S3_STORAGE_CLASS=DEEP_ARCHIVE is an archive class');
    expect(message).toContain('AWS_ACCESS_KEY_ID is set without AWS_SECRET_ACCESS_KEY');
    expect(message).not.toContain('AKIAEXAMPLE');
  });

  it('applies a storage class only when one is set', () => {
    expect(readS3Settings(MINIO, KEYS).dataStorageClass).toBeUndefined();
    expect(readS3Settings(MINIO, { ...KEYS, COFFER_S3_STORAGE_CLASS: 'STANDARD_IA' }).dataStorageClass).toBe('STANDARD_IA');
  });
});
