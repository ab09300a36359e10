import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { CliError } from '../shared/cli-error';
import { formatLocalTime } from '../shared/format';
import { NotLoggedInError } from './controller-client';
import { CredentialsStore, normalizeControllerUrl, resolveConnection, StoredCredentials } from './credentials.store';

const SESSION: StoredCredentials = { controller: 'http://ctl:8080', user: 'alice', token: 'stored-token', expiresAt: '2030-01-01T00:00:00.000Z' };
const NOW = new Date('2026-03-01T12:00:00Z');

describe('CredentialsStore', () => {
  let root: string;
  beforeEach(() => (root = mkdtempSync(join(tmpdir(), 'coffer-credentials-'))));
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const mode = (path: string) => statSync(path).mode & 0o777;

  it('saves into a 700 directory, as a 600 file, whatever the umask', () => {
    const previous = process.umask(0o000);
    try {
      const store = new CredentialsStore(join(root, 'config', 'coffer'));
      store.save(SESSION);
      expect(mode(store.dir)).toBe(0o700);
      expect(mode(store.file)).toBe(0o600);
      expect(JSON.parse(readFileSync(store.file, 'utf8'))).toEqual(SESSION);
      expect(readdirSync(store.dir)).toEqual(['credentials.json']); // no temporary file left
    } finally {
      process.umask(previous);
    }
  });

  it('tightens a directory that exists with looser modes, and replaces the file', () => {
    const dir = join(root, 'coffer');
    mkdirSync(dir, { mode: 0o755 });
    chmodSync(dir, 0o755);
    writeFileSync(join(dir, 'credentials.json'), '{}', { mode: 0o644 });
    chmodSync(join(dir, 'credentials.json'), 0o644);
    const store = new CredentialsStore(dir);
    store.save(SESSION);
    expect(mode(dir)).toBe(0o700);
    expect(mode(store.file)).toBe(0o600);
    expect(store.load()).toEqual(SESSION);
  });

  it('loads nothing when there is no file, and removes the file on logout', () => {
    const store = new CredentialsStore(join(root, 'coffer'));
    expect(store.load()).toBeUndefined();
    expect(store.remove()).toBe(false);
    store.save(SESSION);
    expect(store.remove()).toBe(true);
    expect(existsSync(store.file)).toBe(false);
  });

  it('says what to do with a damaged file', () => {
    const store = new CredentialsStore(root);
    writeFileSync(store.file, '{"controller": "http://ctl"');
    expect(() => store.load()).toThrow(new CliError(`${store.file} is damaged: run coffer login again (or delete the file)`));
    writeFileSync(store.file, '{"controller": "http://ctl", "user": "a"}');
    expect(() => store.load()).toThrow(CliError);
  });

  it('lives in $COFFER_CONFIG_DIR, else $XDG_CONFIG_HOME/coffer, else ~/.config/coffer', () => {
    expect(CredentialsStore.fromEnvironment({ COFFER_CONFIG_DIR: '/etc/x', XDG_CONFIG_HOME: '/xdg' }).file).toBe('/etc/x/credentials.json');
    expect(CredentialsStore.fromEnvironment({ XDG_CONFIG_HOME: '/xdg' }).file).toBe('/xdg/coffer/credentials.json');
    expect(CredentialsStore.fromEnvironment({}).file).toBe(join(homedir(), '.config', 'coffer', 'credentials.json'));
  });
});

describe('resolveConnection', () => {
  let root: string;
  let store: CredentialsStore;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'coffer-connection-'));
    store = new CredentialsStore(root);
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('uses the stored session when nothing overrides it', () => {
    store.save(SESSION);
    expect(resolveConnection(undefined, store, {}, NOW)).toEqual({ controller: 'http://ctl:8080', token: 'stored-token', user: 'alice' });
  });

  it('takes --controller over COFFER_CONTROLLER over the stored controller', () => {
    store.save(SESSION);
    const env = { COFFER_CONTROLLER: 'http://env:1' };
    expect(resolveConnection('http://flag:2', store, env, NOW).controller).toBe('http://flag:2');
    expect(resolveConnection(undefined, store, env, NOW).controller).toBe('http://env:1');
    expect(resolveConnection(undefined, store, { COFFER_CONTROLLER: '' }, NOW).controller).toBe('http://ctl:8080');
  });

  it('never sends the stored token to another controller', () => {
    store.save(SESSION);
    expect(resolveConnection('http://elsewhere:8080', store, {}, NOW)).toEqual({ controller: 'http://elsewhere:8080' });
    // The same controller written differently is the same controller.
    expect(resolveConnection('ctl:8080/', store, {}, NOW).token).toBe('stored-token');
  });

  it('takes COFFER_TOKEN over the stored token, for any controller, with no stored session at all', () => {
    store.save(SESSION);
    expect(resolveConnection(undefined, store, { COFFER_TOKEN: 'ci-token' }, NOW)).toEqual({ controller: 'http://ctl:8080', token: 'ci-token', user: 'alice' });
    store.remove();
    expect(resolveConnection(undefined, store, { COFFER_TOKEN: 'ci-token', COFFER_CONTROLLER: 'http://ci:9' }, NOW)).toEqual({
      controller: 'http://ci:9',
      token: 'ci-token',
      user: undefined,
    });
  });

  it('refuses an expired session before any request, saying how to log in again', () => {
    store.save({ ...SESSION, expiresAt: '2026-03-01T11:00:00.000Z' });
    expect(() => resolveConnection(undefined, store, {}, NOW)).toThrow(
      new NotLoggedInError(
        `the session for http://ctl:8080 expired at ${formatLocalTime('2026-03-01T11:00:00.000Z')}: run coffer login --controller http://ctl:8080 --user alice`,
      ),
    );
    // A token from the environment does not depend on the stored session.
    expect(resolveConnection(undefined, store, { COFFER_TOKEN: 't' }, NOW).token).toBe('t');
  });

  it('says what to do when no controller is known', () => {
    expect(() => resolveConnection(undefined, store, {}, NOW)).toThrow(
      new CliError('no controller given: pass --controller URL, set COFFER_CONTROLLER, or run coffer login --controller URL --user NAME'),
    );
  });
});

describe('normalizeControllerUrl', () => {
  it('adds http://, drops trailing slashes, keeps a path prefix', () => {
    expect(normalizeControllerUrl('ctl:8080')).toBe('http://ctl:8080');
    expect(normalizeControllerUrl('https://CTL.example.com/')).toBe('https://ctl.example.com');
    expect(normalizeControllerUrl('http://proxy/coffer/')).toBe('http://proxy/coffer');
  });

  it('refuses what cannot be a controller URL', () => {
    expect(() => normalizeControllerUrl('ftp://ctl')).toThrow(CliError);
    expect(() => normalizeControllerUrl('http://u:p@ctl')).toThrow(CliError);
    expect(() => normalizeControllerUrl('http://ctl/?x=1')).toThrow(CliError);
    expect(() => normalizeControllerUrl('http://[bad')).toThrow(CliError);
  });
});
