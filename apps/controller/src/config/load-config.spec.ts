import { randomBytes } from 'node:crypto';
import { completeConfig, ConfigError, loadConfig, parseDurationMs } from './load-config';

const KEY = randomBytes(32);

function problemsOf(run: () => unknown): string {
  try {
    run();
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('fills in the defaults', () => {
    const config = loadConfig({}, { COFFER_DATA_DIR: '/var/lib/coffer' });
    expect(config).toEqual({
      dataDir: '/var/lib/coffer',
      httpHost: '127.0.0.1',
      httpPort: 8080,
      grpcHost: '0.0.0.0',
      grpcPort: 7443,
      databaseUrl: null,
      masterKey: null,
      adminPassword: null,
      heartbeatIntervalSeconds: 10,
      offlineAfterMissedHeartbeats: 3,
      tlsServerNames: [],
      schedulerTickMs: 1000,
      logLevel: 'info',
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('reads every variable, and command-line options win over the environment', () => {
    const config = loadConfig(
      { dataDir: 'relative/dir', httpPort: '0', grpcHost: '::1' },
      {
        COFFER_DATA_DIR: '/ignored',
        COFFER_HTTP_HOST: '0.0.0.0',
        COFFER_HTTP_PORT: '9999',
        COFFER_GRPC_PORT: '0',
        DATABASE_URL: 'postgres://coffer:s3cret@db.internal:5432/coffer',
        COFFER_MASTER_KEY: KEY.toString('hex'),
        COFFER_ADMIN_PASSWORD: ' spaced password ',
        COFFER_HEARTBEAT_INTERVAL: '1m',
        COFFER_OFFLINE_AFTER_MISSED: '5',
        COFFER_TLS_SERVER_NAMES: 'coffer.example.com, 10.0.0.5,,coffer.example.com',
        COFFER_SCHEDULER_TICK: '200ms',
        COFFER_LOG_LEVEL: 'DEBUG',
      },
    );
    expect(config).toMatchObject({
      dataDir: `${process.cwd()}/relative/dir`,
      httpHost: '0.0.0.0',
      httpPort: 0,
      grpcHost: '::1',
      grpcPort: 0,
      databaseUrl: 'postgres://coffer:s3cret@db.internal:5432/coffer',
      adminPassword: ' spaced password ',
      heartbeatIntervalSeconds: 60,
      offlineAfterMissedHeartbeats: 5,
      tlsServerNames: ['coffer.example.com', '10.0.0.5'],
      schedulerTickMs: 200,
      logLevel: 'debug',
    });
    expect(config.masterKey).toEqual(KEY);
  });

  it('accepts the master key as base64 too', () => {
    expect(loadConfig({}, { COFFER_DATA_DIR: '/d', COFFER_MASTER_KEY: KEY.toString('base64') }).masterKey).toEqual(KEY);
    expect(loadConfig({}, { COFFER_DATA_DIR: '/d', COFFER_MASTER_KEY: KEY.toString('base64url') }).masterKey).toEqual(KEY);
  });

  it('names every bad setting in one message, without echoing secrets', () => {
    const message = problemsOf(() =>
      loadConfig(
        { grpcPort: '70000' },
        {
          COFFER_HTTP_PORT: 'abc',
          COFFER_HTTP_HOST: 'not a host',
          DATABASE_URL: 'mysql://user:topsecret@db/x',
          COFFER_MASTER_KEY: 'short-secret-key',
          COFFER_ADMIN_PASSWORD: 'tiny',
          COFFER_HEARTBEAT_INTERVAL: '1500ms',
          COFFER_OFFLINE_AFTER_MISSED: '0',
          COFFER_TLS_SERVER_NAMES: 'good.example.com,bad_name!',
          COFFER_SCHEDULER_TICK: 'often',
          COFFER_LOG_LEVEL: 'loud',
        },
      ),
    );
    expect(message).toBe(
      [
        'invalid configuration:',
        '  COFFER_DATA_DIR: is required: give --data-dir DIR or set COFFER_DATA_DIR',
        '  COFFER_HTTP_HOST: must be an IP address or host name, got "not a host"',
        '  COFFER_HTTP_PORT: must be a port number 0-65535, got "abc"',
        '  --grpc-port: must be a port number 0-65535, got "70000"',
        '  DATABASE_URL: must be a postgres:// or postgresql:// URL like postgres://user:password@host:5432/database, got "mysql://user:***@db/x"',
        '  COFFER_MASTER_KEY: must be 32 bytes as base64 (44 characters) or as 64 hex digits; the value given has 16 characters (generate one with: openssl rand -base64 32)',
        '  COFFER_ADMIN_PASSWORD: must be at least 8 characters (the value given has 4)',
        '  COFFER_HEARTBEAT_INTERVAL: must be a whole number of seconds from 1s to 1h, like "10s" or "1m", got "1500ms"',
        '  COFFER_OFFLINE_AFTER_MISSED: must be a whole number from 1 to 1000, got "0"',
        '  COFFER_TLS_SERVER_NAMES: must be DNS names or IP addresses separated by commas; not valid: "bad_name!"',
        '  COFFER_SCHEDULER_TICK: must be a duration from 10ms to 1h, like "1s" or "200ms", got "often"',
        '  COFFER_LOG_LEVEL: must be one of error, warn, info, debug, verbose, got "loud"',
      ].join('\n'),
    );
    expect(message).not.toContain('topsecret');
    expect(message).not.toContain('short-secret-key');
    expect(message).not.toContain('tiny');
  });

  it('treats blank variables as unset', () => {
    const config = loadConfig({}, { COFFER_DATA_DIR: '/d', COFFER_HTTP_PORT: '', DATABASE_URL: ' ', COFFER_MASTER_KEY: '' });
    expect(config.httpPort).toBe(8080);
    expect(config.databaseUrl).toBeNull();
    expect(config.masterKey).toBeNull();
  });

  it('completes into a frozen AppConfig with the master key', () => {
    const config = completeConfig(loadConfig({}, { COFFER_DATA_DIR: '/d' }), KEY);
    expect(config.masterKey).toBe(KEY);
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.tlsServerNames)).toBe(true);
  });
});

describe('parseDurationMs', () => {
  it.each([
    ['200ms', 200],
    ['1s', 1000],
    ['1m30s', 90_000],
    ['2h', 7_200_000],
    ['1s500ms', 1500],
  ])('%s is %d ms', (text, ms) => expect(parseDurationMs(text)).toBe(ms));

  it.each(['', '1', 's', '-1s', '1.5s', '1y', '1s ms'])('rejects %j', (text) => expect(parseDurationMs(text)).toBeUndefined());
});
