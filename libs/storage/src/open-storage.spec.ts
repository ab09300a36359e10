import * as path from 'node:path';
import { LocalStorage } from './local/local-storage';
import { describeLocation, isLocalLocation, openStorage } from './open-storage';
import { StorageError } from './storage';

describe('openStorage', () => {
  it('opens a relative path against the working directory', () => {
    const storage = openStorage('backups/repo');
    expect(storage).toBeInstanceOf(LocalStorage);
    expect(storage.location).toBe(path.resolve('backups/repo'));
  });

  it('opens an absolute path as given', () => {
    expect(openStorage('/srv/backups/').location).toBe('/srv/backups');
  });

  it('opens a file:/// URL, decoding %-escapes', () => {
    expect(openStorage('file:///srv/my%20backups').location).toBe('/srv/my backups');
    expect(openStorage('FILE:///srv/b').location).toBe('/srv/b');
  });

  it.each([
    ['a remote host', 'file://nas/srv/backups'],
    ['a relative file: URL', 'file:srv/backups'],
    ['an encoded slash', 'file:///srv/a%2Fb'],
    ['an empty location', ''],
  ])('refuses %s, saying what is supported', (_, location) => {
    expect(() => openStorage(location)).toThrow(StorageError);
    expect(() => openStorage(location)).toThrow(/supported: a local path, file:\/\/\/path, s3:http\(s\):\/\/HOST\[:PORT\]\/BUCKET\[\/PREFIX\], azure:ACCOUNT\/CONTAINER\[\/PREFIX\], sftp:USER@HOST\[:PORT\]\/PATH/);
  });

  it('refuses a scheme it has no driver for, permanently', () => {
    let err: unknown;
    try {
      openStorage('gs:bucket');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StorageError);
    expect((err as StorageError).permanent).toBe(true);
    expect((err as Error).message).toMatch(/^storage "gs:bucket" is not supported \(supported: a local path, file:/);
  });

  it.each([
    ['s3:http://127.0.0.1:9000/bucket/prefix', 's3:http://127.0.0.1:9000/bucket/prefix'],
    ['azure:account/container/prefix', 'azure:account/container/prefix'],
    ['sftp:backup@nas:2222/srv/coffer', 'sftp:backup@nas:2222/srv/coffer'],
  ])('hands %s to its driver without any I/O', (location, shown) => {
    const env = {
      AWS_ACCESS_KEY_ID: 'k',
      AWS_SECRET_ACCESS_KEY: 's',
      AZURE_ACCOUNT_KEY: Buffer.from('key').toString('base64'),
      COFFER_SFTP_KEY: '-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----',
      COFFER_SFTP_HOST_KEY: 'SHA256:' + 'A'.repeat(43),
    };
    expect(openStorage(location, { env }).location).toBe(shown);
  });

  it('suggests ./ for a directory name that only looks like a scheme', () => {
    expect(() => openStorage('backup:2024')).toThrow(/write \.\/backup:2024/);
  });

  it('never puts a password into its message', () => {
    expect(() => openStorage('gs:https://AKIA:s3cr3t@minio:9000/bucket')).toThrow(/AKIA:\*\*\*@minio/);
    expect(() => openStorage('gs:https://AKIA:s3cr3t@minio:9000/bucket')).not.toThrow(/s3cr3t/);
  });
});

describe('describeLocation', () => {
  it('masks the password of a URL and leaves anything else alone', () => {
    expect(describeLocation('sftp://backup:hunter2@host/srv')).toBe('sftp://backup:***@host/srv');
    expect(describeLocation('/srv/backups')).toBe('/srv/backups');
    expect(describeLocation('sftp:user@host:/srv')).toBe('sftp:user@host:/srv');
  });
});

describe('isLocalLocation', () => {
  it('is true for paths and file: URLs, false for every remote driver', () => {
    for (const local of ['/srv/backups', 'relative/dir', './odd:name', 'file:///srv/backups', 'FILE:///srv']) expect(isLocalLocation(local)).toBe(true);
    for (const remote of ['s3:http://127.0.0.1:9000/bucket', 'azure:acct/container', 'sftp:backup@host/srv']) expect(isLocalLocation(remote)).toBe(false);
  });
});
