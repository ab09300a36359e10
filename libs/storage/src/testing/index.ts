/**
 * Real storage servers on loopback for tests (an S3-compatible server, Azurite, OpenSSH's
 * sftp), started and stopped by the tests that need them, and a fault-injecting HTTP proxy.
 * Built into dist/testing and imported as `@coffer/storage/dist/testing`, never from
 * production code: the servers are devDependencies.
 */
export {};
export * from './azurite-test-server';
export * from './faulty-http-proxy';
export * from './s3-test-server';
export * from './sftp-test-server';
