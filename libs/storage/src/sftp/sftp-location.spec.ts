import fc from 'fast-check';
import { StorageError } from '../storage';
import { parseSftpLocation } from './sftp-location';
import { readSftpSettings } from './sftp-settings';

describe('parseSftpLocation', () => {
  it.each([
    ['sftp:backup@nas:2222/srv/coffer', { user: 'backup', host: 'nas', port: 2222, root: '/srv/coffer', display: 'sftp:backup@nas:2222/srv/coffer' }],
    ['sftp:backup@nas/srv/coffer/', { user: 'backup', host: 'nas', port: 22, root: '/srv/coffer', display: 'sftp:backup@nas/srv/coffer' }],
    ['sftp:backup@nas:/srv/coffer', { user: 'backup', host: 'nas', port: 22, root: '/srv/coffer', display: 'sftp:backup@nas/srv/coffer' }],
    ['sftp:backup@nas:22/srv//a/../coffer', { user: 'backup', host: 'nas', port: 22, root: '/srv/coffer', display: 'sftp:backup@nas/srv/coffer' }],
    ['sftp://backup@nas.example.com:2222/srv/coffer', { user: 'backup', host: 'nas.example.com', port: 2222, root: '/srv/coffer', display: 'sftp:backup@nas.example.com:2222/srv/coffer' }],
    ['sftp://back%20up@nas/srv/my%20repo', { user: 'back up', host: 'nas', port: 22, root: '/srv/my repo', display: 'sftp:back up@nas/srv/my repo' }],
    ['sftp:backup@10.0.0.5:2222/', { user: 'backup', host: '10.0.0.5', port: 2222, root: '/', display: 'sftp:backup@10.0.0.5:2222/' }],
    ['sftp:backup@[::1]:2222/srv', { user: 'backup', host: '::1', port: 2222, root: '/srv', display: 'sftp:backup@[::1]:2222/srv' }],
    ['SFTP:backup@nas/srv', { user: 'backup', host: 'nas', port: 22, root: '/srv', display: 'sftp:backup@nas/srv' }],
  ])('reads %s', (location, expected) => {
    expect(parseSftpLocation(location)).toEqual(expected);
  });

  it.each([
    ['no user', 'sftp:nas/srv', /names no user/],
    ['an empty user', 'sftp:@nas/srv', /names no user/],
    ['no path', 'sftp:backup@nas:2222', /names no directory/],
    ['a relative path', 'sftp:backup@nas:srv/coffer', /expected sftp:USER@HOST/],
    ['port 0', 'sftp:backup@nas:0/srv', /port 0 is not 1-65535/],
    ['a port too large', 'sftp:backup@nas:70000/srv', /port 70000 is not 1-65535/],
    ['a bad %-escape', 'sftp://backup@nas/srv/%zz', /malformed %-escape/],
    ['a host with a space', 'sftp:backup@n as/srv', /expected sftp:USER@HOST/],
  ])('refuses %s, permanently', (_, location, message) => {
    const err = thrown(() => parseSftpLocation(location));
    expect(err).toBeInstanceOf(StorageError);
    expect((err as StorageError).permanent).toBe(true);
    expect((err as Error).message).toMatch(message);
  });

  it('round-trips what it displays', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[a-z_][a-z0-9_.-]{0,15}$/),
        fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?(\.[a-z0-9]{1,8}){0,3}$/),
        fc.integer({ min: 1, max: 65535 }),
        fc.array(fc.stringMatching(/^[A-Za-z0-9_ .,+=-]{1,12}$/).filter((s) => s !== '.' && s !== '..'), { maxLength: 4 }),
        (user, host, port, segments) => {
          const target = parseSftpLocation(`sftp:${user}@${host}:${port}/${segments.join('/')}`);
          expect(parseSftpLocation(target.display)).toEqual(target);
          expect([target.user, target.host, target.port]).toEqual([user, host, port]);
        },
      ),
    );
  });

  it('refuses a password without ever repeating it', () => {
    fc.assert(
      // A distinctive start, so the password cannot turn up in the message's own words by chance.
      fc.property(fc.stringMatching(/^[^@/\s]{0,20}$/).map((rest) => `hunter2${rest}`), fc.constantFrom('sftp:', 'sftp://'), (password, scheme) => {
        const err = thrown(() => parseSftpLocation(`${scheme}backup:${password}@nas/srv`));
        expect((err as Error).message).toContain(`"${scheme}backup:***@nas/srv"`);
        expect((err as Error).message).toContain('never take');
        expect((err as Error).message).not.toContain(password);
      }),
    );
  });
});

describe('readSftpSettings', () => {
  const location = 'sftp:backup@nas/srv';

  it('defaults to the keys and known_hosts in ~/.ssh of the HOME it is given', () => {
    expect(readSftpSettings({ HOME: '/home/coffer' }, location)).toEqual({
      privateKey: { kind: 'file', candidates: ['/home/coffer/.ssh/id_ed25519', '/home/coffer/.ssh/id_rsa'] },
      passphrase: undefined,
      hostKey: { kind: 'known-hosts', file: '/home/coffer/.ssh/known_hosts', explicit: false },
    });
  });

  it('takes a key file, a passphrase and a known_hosts file, expanding ~/', () => {
    const env = { HOME: '/home/coffer', COFFER_SFTP_KEY_FILE: '~/keys/nas', COFFER_SFTP_KEY_PASSPHRASE: 'pass', COFFER_SFTP_KNOWN_HOSTS: '/etc/coffer/known_hosts' };
    expect(readSftpSettings(env, location)).toEqual({
      privateKey: { kind: 'file', candidates: ['/home/coffer/keys/nas'] },
      passphrase: 'pass',
      hostKey: { kind: 'known-hosts', file: '/etc/coffer/known_hosts', explicit: true },
    });
  });

  it('takes the key itself, with its line breaks escaped or not', () => {
    const key = '-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn\n-----END OPENSSH PRIVATE KEY-----\n';
    const pinned = { COFFER_SFTP_HOST_KEY: `SHA256:${'A'.repeat(43)}` };
    expect(readSftpSettings({ ...pinned, COFFER_SFTP_KEY: key }, location).privateKey).toEqual({ kind: 'inline', text: key });
    expect(readSftpSettings({ ...pinned, COFFER_SFTP_KEY: key.replace(/\n/g, '\\n') }, location).privateKey).toEqual({ kind: 'inline', text: key });
  });

  it('finds the fingerprints in what ssh-keygen -lf printed, and prefers them to known_hosts', () => {
    const ed25519 = `SHA256:${'a'.repeat(42)}Q`;
    const rsa = `SHA256:${'b+/'.repeat(14)}c`;
    const env = { HOME: '/home/coffer', COFFER_SFTP_HOST_KEY: `256 ${ed25519} nas (ED25519)\n3072 ${rsa}= nas (RSA)` };
    expect(readSftpSettings(env, location).hostKey).toEqual({ kind: 'fingerprints', fingerprints: [ed25519, rsa] });
  });

  it('names every bad variable at once, permanently', () => {
    const err = thrown(() => readSftpSettings({ COFFER_SFTP_KEY: 'k', COFFER_SFTP_KEY_FILE: '/k', COFFER_SFTP_HOST_KEY: 'MD5:00:11' }, location));
    expect((err as StorageError).permanent).toBe(true);
    expect((err as Error).message).toBe(
      `cannot use ${location}: COFFER_SFTP_KEY and COFFER_SFTP_KEY_FILE are both set; set only one; ` +
        'COFFER_SFTP_HOST_KEY holds no SHA256:… fingerprint (MD5 fingerprints are not accepted); get it with: ssh-keyscan -p PORT HOST | ssh-keygen -lf -',
    );
  });

  it('without HOME, needs the key and the host key pinned explicitly', () => {
    expect(thrown(() => readSftpSettings({}, location))).toMatchObject({
      message: expect.stringMatching(/no private key: set COFFER_SFTP_KEY_FILE or COFFER_SFTP_KEY.*no way to check the server: set COFFER_SFTP_HOST_KEY or COFFER_SFTP_KNOWN_HOSTS/),
    });
  });
});

function thrown(call: () => unknown): unknown {
  try {
    call();
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to throw, but it returned');
}
