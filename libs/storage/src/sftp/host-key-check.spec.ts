import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { prepareHostKeyCheck, sha256Fingerprint } from './host-key-check';
import { parseSftpLocation } from './sftp-location';

/** A host key made by ssh-keygen: its known_hosts fields and the fingerprint ssh-keygen prints. */
interface HostKey {
  type: string;
  base64: string;
  blob: Buffer;
  fingerprint: string;
}

let dir: string;
let ed25519: HostKey;
let otherEd25519: HostKey;
let rsa: HostKey;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'coffer-host-key-check-'));
  [ed25519, otherEd25519, rsa] = await Promise.all([makeKey('ed25519', 'a'), makeKey('ed25519', 'b'), makeKey('rsa', 'c')]);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function makeKey(type: string, name: string): Promise<HostKey> {
  const file = path.join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', type, ...(type === 'rsa' ? ['-b', '2048'] : []), '-N', '', '-f', file]);
  const [keyType, base64] = (await readFile(`${file}.pub`, 'utf8')).split(' ');
  const fingerprint = execFileSync('ssh-keygen', ['-l', '-f', `${file}.pub`]).toString().split(' ')[1];
  return { type: keyType, base64, blob: Buffer.from(base64, 'base64'), fingerprint };
}

/** The check for `location` against a known_hosts file holding `lines`. */
async function knownHostsCheck(location: string, lines: string[]) {
  const file = path.join(dir, 'known_hosts');
  await writeFile(file, lines.join('\n') + '\n');
  return prepareHostKeyCheck({ kind: 'known-hosts', file, explicit: true }, parseSftpLocation(location));
}

const line = (hosts: string, key: HostKey, marker = ''): string => `${marker}${marker ? ' ' : ''}${hosts} ${key.type} ${key.base64} comment`;

describe('sha256Fingerprint', () => {
  it('is what ssh-keygen -lf prints', () => {
    for (const key of [ed25519, rsa]) expect(sha256Fingerprint(key.blob)).toBe(key.fingerprint);
  });
});

describe('prepareHostKeyCheck with fingerprints', () => {
  it('accepts any pinned fingerprint and refuses any other key, saying how to pin it', async () => {
    const check = await prepareHostKeyCheck({ kind: 'fingerprints', fingerprints: [rsa.fingerprint, ed25519.fingerprint] }, parseSftpLocation('sftp:u@nas/srv'));
    expect(check.refusal(ed25519.blob)).toBeUndefined();
    expect(check.refusal(rsa.blob)).toBeUndefined();
    const refusal = check.refusal(otherEd25519.blob)!;
    expect(refusal).toContain(`nas offered the ssh-ed25519 host key ${otherEd25519.fingerprint}, which is not the key COFFER_SFTP_HOST_KEY pins`);
    expect(refusal).toContain('ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub');
    expect(refusal).toContain(`COFFER_SFTP_HOST_KEY=${otherEd25519.fingerprint}`);
    expect(refusal).toContain('ssh-keyscan nas >> ~/.ssh/known_hosts');
  });
});

describe('prepareHostKeyCheck with known_hosts', () => {
  it('matches "host" on port 22 and "[host]:port" elsewhere, as OpenSSH writes them', async () => {
    const lines = [line('nas', ed25519), line('[nas]:2222', otherEd25519)];
    expect((await knownHostsCheck('sftp:u@nas/srv', lines)).refusal(ed25519.blob)).toBeUndefined();
    expect((await knownHostsCheck('sftp:u@nas/srv', lines)).refusal(otherEd25519.blob)).toContain('THE HOST KEY HAS CHANGED');
    expect((await knownHostsCheck('sftp:u@nas:2222/srv', lines)).refusal(otherEd25519.blob)).toBeUndefined();
    expect((await knownHostsCheck('sftp:u@NAS:2222/srv', lines)).refusal(otherEd25519.blob)).toBeUndefined();
  });

  it('reads comma-separated hosts, wildcards and negations', async () => {
    const lines = [line('backup.example.com,10.0.0.5', rsa), line('*.example.com,!evil.example.com', ed25519)];
    expect((await knownHostsCheck('sftp:u@10.0.0.5/srv', lines)).refusal(rsa.blob)).toBeUndefined();
    expect((await knownHostsCheck('sftp:u@nas.example.com/srv', lines)).refusal(ed25519.blob)).toBeUndefined();
    expect((await knownHostsCheck('sftp:u@evil.example.com/srv', lines)).refusal(ed25519.blob)).toContain('which is unknown');
    expect((await knownHostsCheck('sftp:u@example.com/srv', lines)).refusal(ed25519.blob)).toContain('which is unknown');
  });

  it('reads entries hashed by ssh-keygen -H', async () => {
    const file = path.join(dir, 'hashed_known_hosts');
    await writeFile(file, `${line('[nas]:2222', ed25519)}\n`);
    execFileSync('ssh-keygen', ['-H', '-f', file], { stdio: 'pipe' });
    const check = await prepareHostKeyCheck({ kind: 'known-hosts', file, explicit: true }, parseSftpLocation('sftp:u@nas:2222/srv'));
    expect(check.refusal(ed25519.blob)).toBeUndefined();
    const elsewhere = await prepareHostKeyCheck({ kind: 'known-hosts', file, explicit: true }, parseSftpLocation('sftp:u@nas/srv'));
    expect(elsewhere.refusal(ed25519.blob)).toContain('which is unknown');
  });

  it('refuses a key marked @revoked, and ignores @cert-authority lines', async () => {
    const check = await knownHostsCheck('sftp:u@nas/srv', [line('nas', ed25519), line('*', ed25519, '@revoked'), line('nas', rsa, '@cert-authority')]);
    expect(check.refusal(ed25519.blob)).toMatch(/line 2 marks @revoked/);
    expect(check.refusal(rsa.blob)).toContain('which is unknown');
  });

  it('says whether the host is unknown or its key changed, naming the line', async () => {
    const check = await knownHostsCheck('sftp:u@nas:2222/srv', ['# comment', '', line('[nas]:2222', ed25519)]);
    const changed = check.refusal(otherEd25519.blob)!;
    expect(changed).toContain(`line 3 holds a different ssh-ed25519 key (${ed25519.fingerprint}) for [nas]:2222`);
    expect(changed).toContain(`nas:2222 offered the ssh-ed25519 host key ${otherEd25519.fingerprint}`);
    expect(check.refusal(rsa.blob)).toContain(`has no ssh-rsa key for [nas]:2222`);
    expect(check.refusal(rsa.blob)).toContain('ssh-keygen -lf /etc/ssh/ssh_host_rsa_key.pub');
    expect(check.refusal(rsa.blob)).toContain('ssh-keyscan -p 2222 nas >> ~/.ssh/known_hosts');
  });

  it('asks the server first for the kinds of key it knows for the host', async () => {
    const check = await knownHostsCheck('sftp:u@nas/srv', [line('nas', rsa), line('other', ed25519)]);
    expect(check.preferredAlgorithms).toEqual(['rsa-sha2-512', 'rsa-sha2-256']);
  });

  it('knows no host when the file does not exist', async () => {
    const file = path.join(dir, 'missing');
    const check = await prepareHostKeyCheck({ kind: 'known-hosts', file, explicit: false }, parseSftpLocation('sftp:u@nas/srv'));
    expect(check.refusal(ed25519.blob)).toContain(`which is unknown: ${file} does not exist`);
  });
});
