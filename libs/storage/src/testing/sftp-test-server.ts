import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';

/** A real OpenSSH sshd on 127.0.0.1 serving SFTP, and what a test needs to use it. */
export interface SftpTestServer {
  /** COFFER_SFTP_KEY_FILE and COFFER_SFTP_HOST_KEY for the server: pass as openStorage's env. */
  env: NodeJS.ProcessEnv;
  /** The user the tests log in as (the current one). */
  user: string;
  port: number;
  /**
   * A second port where the SFTP server refuses every request that removes a file or
   * directory (`internal-sftp -P remove,rmdir,…`), as the SFTP docs suggest for writers.
   */
  noDeletePort: number;
  /** A fresh directory, empty at start, for repositories. */
  root: string;
  /**
   * Public halves of the server's host keys (ed25519, which clients prefer and `env` pins,
   * and rsa, for tests of a client that must ask for it), and the client's key pair.
   */
  files: { hostPublicKeys: { ed25519: string; rsa: string }; clientPrivateKey: string; clientPublicKey: string };
  /** `sftp:USER@127.0.0.1:PORT/<root>/<subdir>`: as `user` on `port` unless told otherwise. */
  location(subdir: string, options?: { user?: string; noDelete?: boolean }): string;
  /** Kills every SSH connection (the per-connection sshd processes), as a network failure would. */
  dropConnections(): Promise<void>;
  /** Stops sshd and its connections and starts it again on the same port with the same keys. */
  restart(): Promise<void>;
  /** Stops sshd and removes every file it used, repositories included. */
  stop(): Promise<void>;
}

const SSHD = '/usr/sbin/sshd';
const STARTUP_DEADLINE_MS = 15_000;
/** Ports tried when another process takes the free port found between checking and sshd binding it. */
const PORT_ATTEMPTS = 5;

const execFileAsync = promisify(execFile);

/**
 * Starts OpenSSH's sshd (`-D -e`, a child of this process) with its own host key, a client
 * key pair and an sshd_config in a temp dir, and waits until it listens. Logins: key only,
 * any local user whose name a test puts in its location (which needs root, as in the CI
 * sandbox: sshd must switch to that user), including root itself. Fails with sshd's own
 * words when it cannot start; tests that need it must not skip.
 */
export async function startSftpTestServer(): Promise<SftpTestServer> {
  const dir = await mkdtemp(path.join(tmpdir(), 'coffer-sftp-server-'));
  try {
    return await startIn(dir);
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

async function startIn(dir: string): Promise<SftpTestServer> {
  // sshd reads authorized_keys as the user logging in, so other users must be able to reach it.
  await chmod(dir, 0o755);
  const hostKeys = { ed25519: path.join(dir, 'ssh_host_ed25519_key'), rsa: path.join(dir, 'ssh_host_rsa_key') };
  const clientKey = path.join(dir, 'client_ed25519_key');
  await Promise.all([generateKey(hostKeys.ed25519, 'ed25519'), generateKey(hostKeys.rsa, 'rsa'), generateKey(clientKey, 'ed25519')]);
  const authorizedKeys = path.join(dir, 'authorized_keys');
  await writeFile(authorizedKeys, await readFile(`${clientKey}.pub`), { mode: 0o644 });
  const root = path.join(dir, 'repositories');
  await mkdir(root, { mode: 0o755 });
  // Privilege separation needs this directory; a fresh container has none.
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 }).catch(() => undefined);
  const hostKeyFingerprint = await fingerprintOf(`${hostKeys.ed25519}.pub`);
  const user = userInfo().username;

  const config = path.join(dir, 'sshd_config');
  let ports: SshdPorts = { port: 0, noDeletePort: 0 };
  let sshd: ChildProcess | undefined;
  for (let attempt = 1; sshd === undefined; attempt++) {
    const [port, noDeletePort] = await freePorts(2);
    ports = { port, noDeletePort };
    await writeFile(config, sshdConfig({ ...ports, hostKeys: Object.values(hostKeys), authorizedKeys, pidFile: path.join(dir, 'sshd.pid') }));
    try {
      sshd = await runSshd(config, ports);
    } catch (err) {
      if (attempt >= PORT_ATTEMPTS || !(err instanceof PortTakenError)) throw err;
    }
  }

  const server: SftpTestServer = {
    env: { COFFER_SFTP_KEY_FILE: clientKey, COFFER_SFTP_HOST_KEY: hostKeyFingerprint },
    user,
    ...ports,
    root,
    files: {
      hostPublicKeys: { ed25519: `${hostKeys.ed25519}.pub`, rsa: `${hostKeys.rsa}.pub` },
      clientPrivateKey: clientKey,
      clientPublicKey: `${clientKey}.pub`,
    },
    location: (subdir, options = {}) => {
      const port = options.noDelete ? ports.noDeletePort : ports.port;
      return `sftp:${options.user ?? user}@127.0.0.1:${port}${path.posix.join(root, subdir)}`;
    },
    dropConnections: async () => {
      await killConnections(sshd!);
    },
    restart: async () => {
      await stopSshd(sshd!);
      sshd = await runSshd(config, ports);
    },
    stop: async () => {
      await stopSshd(sshd!);
      await rm(dir, { recursive: true, force: true });
    },
  };
  return server;
}

/** The ports sshd listens on (both on 127.0.0.1). */
interface SshdPorts {
  port: number;
  noDeletePort: number;
}

function sshdConfig(options: SshdPorts & { hostKeys: string[]; authorizedKeys: string; pidFile: string }): string {
  return [
    `ListenAddress 127.0.0.1`,
    `Port ${options.port}`,
    `Port ${options.noDeletePort}`,
    ...options.hostKeys.map((key) => `HostKey ${key}`),
    `PidFile ${options.pidFile}`,
    `AuthorizedKeysFile ${options.authorizedKeys}`,
    `PubkeyAuthentication yes`,
    `PasswordAuthentication no`,
    `KbdInteractiveAuthentication no`,
    `PermitRootLogin prohibit-password`,
    // Temp dirs and keys belong to whoever runs the tests, not to the user logging in.
    `StrictModes no`,
    `UsePAM no`,
    `Subsystem sftp internal-sftp`,
    // Tests open a connection per storage and several storages at once.
    `MaxStartups 100`,
    // Match blocks run to the end of the file, so this one comes last.
    `Match LocalPort ${options.noDeletePort}`,
    `  ForceCommand internal-sftp -P remove,rmdir,setstat,fsetstat,lsetstat,hardlink,symlink`,
    '',
  ].join('\n');
}

/** sshd could not bind its port (taken since freePort() found it); another port may do. */
class PortTakenError extends Error {}

/** Runs sshd in the foreground and resolves once it says it listens on both ports; rejects with its output if it exits first. */
function runSshd(config: string, ports: SshdPorts): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    // -D: stay a child of ours; -e: log to stderr, where we wait for "Server listening".
    const sshd = spawn(SSHD, ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    let output = '';
    const fail = (err: Error): void => {
      clearTimeout(deadline);
      sshd.kill('SIGKILL');
      reject(err);
    };
    const deadline = setTimeout(
      () => {
        const what = `ports ${ports.port} and ${ports.noDeletePort}`;
        fail(new Error(`sshd did not listen on ${what} within ${STARTUP_DEADLINE_MS} ms; it said:\n${output}`));
      },
      STARTUP_DEADLINE_MS,
    );
    sshd.stderr!.setEncoding('utf8');
    const onOutput = (chunk: string): void => {
      output += chunk;
      if (/Bind to port \d+ on 127\.0\.0\.1 failed: Address already in use/.test(output)) {
        return fail(new PortTakenError(`sshd could not bind its port; it said:\n${output}`));
      }
      const listening = (port: number): boolean => output.includes(`Server listening on 127.0.0.1 port ${port}.`);
      if (listening(ports.port) && listening(ports.noDeletePort)) {
        clearTimeout(deadline);
        sshd.off('exit', onExit);
        // Keep draining stderr (connection logs), or sshd blocks once the pipe fills.
        sshd.stderr!.off('data', onOutput).resume();
        resolve(sshd);
      }
    };
    const onExit = (code: number | null, signal: string | null): void => {
      const why = `${SSHD} exited (${signal ?? `code ${code}`}) before listening; it said:\n${output}`;
      fail(new Error(why));
    };
    sshd.stderr!.on('data', onOutput);
    sshd.once('exit', onExit);
    sshd.once('error', (err) => fail(new Error(`cannot run ${SSHD} (is openssh-server installed?): ${err.message}`)));
  });
}

/** Stops the listener and then every connection it forked (they outlive it by design). */
async function stopSshd(sshd: ChildProcess): Promise<void> {
  const connections = await descendantsOf(sshd.pid!);
  if (sshd.exitCode === null && sshd.signalCode === null) {
    const exited = new Promise((resolve) => sshd.once('exit', resolve));
    sshd.kill('SIGTERM');
    await exited;
  }
  killAll(connections);
}

async function killConnections(sshd: ChildProcess): Promise<void> {
  killAll(await descendantsOf(sshd.pid!));
}

function killAll(pids: number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Gone already: a connection that ended by itself.
    }
  }
}

/** Every process below `pid` (sshd forks a process per connection, which forks the session). */
async function descendantsOf(pid: number): Promise<number[]> {
  const parents = new Map<number, number[]>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const status = await readFile(`/proc/${entry}/status`, 'utf8').catch(() => '');
    const parent = /^PPid:\s+(\d+)$/m.exec(status)?.[1];
    if (parent === undefined) continue;
    const children = parents.get(Number(parent)) ?? [];
    children.push(Number(entry));
    parents.set(Number(parent), children);
  }
  const found: number[] = [];
  const visit = (p: number): void => {
    for (const child of parents.get(p) ?? []) {
      found.push(child);
      visit(child);
    }
  };
  visit(pid);
  return found;
}

async function generateKey(file: string, type: 'ed25519' | 'rsa'): Promise<void> {
  const size = type === 'rsa' ? ['-b', '2048'] : [];
  await execFileAsync('ssh-keygen', ['-q', '-t', type, ...size, '-N', '', '-C', path.basename(file), '-f', file]);
}

/** `SHA256:…` of a public key file, as ssh-keygen -lf prints it. */
async function fingerprintOf(publicKeyFile: string): Promise<string> {
  const { stdout } = await execFileAsync('ssh-keygen', ['-l', '-E', 'sha256', '-f', publicKeyFile]);
  const fingerprint = /SHA256:\S+/.exec(stdout)?.[0];
  if (fingerprint === undefined) throw new Error(`ssh-keygen printed no fingerprint for ${publicKeyFile}: ${stdout}`);
  return fingerprint;
}

/**
 * `count` different ports free on 127.0.0.1 right now (sshd cannot be told to pick one and
 * report it): all are held at once while they are found, so none comes up twice.
 */
async function freePorts(count: number): Promise<number[]> {
  const probes = Array.from({ length: count }, () => createServer());
  try {
    return await Promise.all(
      probes.map(
        (probe) =>
          new Promise<number>((resolve, reject) => {
            probe.once('error', reject);
            probe.listen(0, '127.0.0.1', () => resolve((probe.address() as AddressInfo).port));
          }),
      ),
    );
  } finally {
    await Promise.all(probes.map((probe) => new Promise((resolve) => probe.close(resolve))));
  }
}
