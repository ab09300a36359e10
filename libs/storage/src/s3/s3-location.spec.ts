import { StorageError } from '../storage';
import { parseS3Location } from './s3-location';

describe('parseS3Location', () => {
  it.each([
    ['s3:http://127.0.0.1:9000/bucket/prefix', 'http://127.0.0.1:9000', 'bucket', 'prefix', 's3:http://127.0.0.1:9000/bucket/prefix'],
    ['s3:https://s3.eu-west-1.amazonaws.com/my-bucket', 'https://s3.eu-west-1.amazonaws.com', 'my-bucket', '', 's3:https://s3.eu-west-1.amazonaws.com/my-bucket'],
    ['s3:https://minio.example.org:9443/backups/a/b/c/', 'https://minio.example.org:9443', 'backups', 'a/b/c', 's3:https://minio.example.org:9443/backups/a/b/c'],
    // restic's bare form means https.
    ['s3:s3.amazonaws.com/bucket_name/restic', 'https://s3.amazonaws.com', 'bucket_name', 'restic', 's3:https://s3.amazonaws.com/bucket_name/restic'],
    ['s3:minio.lan:9000/repo', 'https://minio.lan:9000', 'repo', '', 's3:https://minio.lan:9000/repo'],
    ['S3:HTTPS://Host.Example:443/Bucket/Pre', 'https://host.example', 'Bucket', 'Pre', 's3:https://host.example/Bucket/Pre'],
  ])('reads %s', (location, endpoint, bucket, prefix, display) => {
    expect(parseS3Location(location)).toMatchObject({ endpoint, bucket, prefix, display });
  });

  it('tells Amazon endpoints, and the region they name, from others', () => {
    expect(parseS3Location('s3:https://s3.eu-west-1.amazonaws.com/b-1')).toMatchObject({ isAws: true, awsRegion: 'eu-west-1' });
    expect(parseS3Location('s3:https://s3.amazonaws.com/b-1')).toMatchObject({ isAws: true, awsRegion: undefined });
    expect(parseS3Location('s3:http://127.0.0.1:9000/b-1')).toMatchObject({ isAws: false, awsRegion: undefined });
  });

  it.each([
    ['s3:', 'not a URL'],
    ['s3:http://127.0.0.1:9000', 'the bucket is missing'],
    ['s3:http://127.0.0.1:9000/', 'the bucket is missing'],
    ['s3://bucket/prefix', 'AWS CLI form'],
    ['s3:ftp://host/bucket', 'scheme must be http or https'],
    ['s3:https://host/b', 'not a bucket name'],
    ['s3:https://host/bucket!/x', 'not a bucket name'],
    ['s3:https://host/bucket/a//b', 'an empty path segment'],
    ['s3:https://host/bucket/a/../b', 'a ".." path segment'],
    ['s3:https://host/bucket/p?versionId=1', 'query string'],
  ])('refuses %s, saying what is wrong and what is expected', (location, problem) => {
    const err = failure(() => parseS3Location(location));
    expect(err).toBeInstanceOf(StorageError);
    expect(err.permanent).toBe(true);
    expect(err.message).toContain(problem);
    expect(err.message).toContain('expected s3:https://HOST[:PORT]/BUCKET[/PREFIX]');
  });

  it('refuses credentials in the location without repeating them', () => {
    for (const location of ['s3:https://AKIAEXAMPLE:hunter2@host/bucket', 's3:AKIAEXAMPLE:hunter2@host/bucket']) {
      const err = failure(() => parseS3Location(location));
      expect(err.message).toContain('set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY');
      expect(err.message).not.toContain('hunter2');
    }
  });
});

function failure(call: () => unknown): StorageError {
  try {
    call();
  } catch (err) {
    return err as StorageError;
  }
  throw new Error('expected the call to fail, but it succeeded');
}
