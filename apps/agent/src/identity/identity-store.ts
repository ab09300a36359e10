import { accessSync, chmodSync, constants, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AgentError } from '../shared/agent-error';
import { writeFileAtomic } from '../shared/atomic-file';

/** Who the agent is, as agent.json records it (no secrets: the key is in agent.key). */
export interface AgentIdentity {
  /** The controller's id for this agent (the CN of its certificate). */
  agentId: string;
  /** The agent's name in the fleet; recorded as the host of every snapshot it writes. */
  name: string;
  /** The controller's agent port, HOST:PORT. */
  controller: string;
  labels: Record<string, string>;
  /** ISO-8601. */
  enrolledAt: string;
}

/** The identity with its key material (PEM). */
export interface AgentCredentials {
  identity: AgentIdentity;
  keyPem: string;
  certPem: string;
  /** The controller's CA, pinned at enrollment; the only CA the agent trusts. */
  caPem: string;
}

const IDENTITY_FILE = 'agent.json';
const KEY_FILE = 'agent.key';
const CERT_FILE = 'agent.crt';
const CA_FILE = 'ca.crt';

/**
 * The agent's data dir: its identity (agent.json, agent.key, agent.crt, ca.crt) and its job
 * ledger (jobs/). The directory is mode 700 and the key 600: only the agent's user may read
 * them. agent.json is written last, so a data dir with agent.json holds a whole identity.
 */
export class IdentityStore {
  readonly dir: string;

  constructor(dataDir: string) {
    this.dir = resolve(dataDir);
  }

  /**
   * Creates the data dir if needed, makes it private (700) either way, and checks that it
   * can be written — before a single-use join token is spent on an identity that could not
   * be saved.
   */
  prepare(): void {
    try {
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      chmodSync(this.dir, 0o700);
      accessSync(this.dir, constants.W_OK | constants.X_OK);
    } catch (err) {
      throw new AgentError(`cannot use ${this.dir} as the data dir: ${(err as NodeJS.ErrnoException).code === 'EACCES' ? 'permission denied' : (err as Error).message}`);
    }
  }

  /** True when the data dir holds an identity, or the beginnings of one (a key). */
  exists(): boolean {
    return existsSync(join(this.dir, IDENTITY_FILE)) || existsSync(join(this.dir, KEY_FILE));
  }

  /** The identity without key material (for `status`). */
  readIdentity(): AgentIdentity {
    const text = this.readFile(IDENTITY_FILE);
    try {
      const parsed = JSON.parse(text) as AgentIdentity;
      if (typeof parsed.agentId !== 'string' || typeof parsed.name !== 'string' || typeof parsed.controller !== 'string') throw new Error('fields missing');
      return { ...parsed, labels: parsed.labels ?? {} };
    } catch (err) {
      throw new AgentError(`${join(this.dir, IDENTITY_FILE)} is damaged (${(err as Error).message}): enroll the agent again with --force`);
    }
  }

  /** Everything `run` needs to authenticate. */
  readCredentials(): AgentCredentials {
    const identity = this.readIdentity();
    return { identity, keyPem: this.readFile(KEY_FILE), certPem: this.readFile(CERT_FILE), caPem: this.readFile(CA_FILE) };
  }

  /** Saves a new identity, replacing any old one; agent.json last. */
  write(credentials: AgentCredentials): void {
    this.prepare();
    writeFileAtomic(join(this.dir, KEY_FILE), credentials.keyPem, 0o600);
    writeFileAtomic(join(this.dir, CERT_FILE), credentials.certPem, 0o644);
    writeFileAtomic(join(this.dir, CA_FILE), credentials.caPem, 0o644);
    writeFileAtomic(join(this.dir, IDENTITY_FILE), `${JSON.stringify(credentials.identity, null, 2)}\n`, 0o644);
  }

  private readFile(name: string): string {
    const path = join(this.dir, name);
    try {
      return readFileSync(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new AgentError(`${this.dir} holds no agent identity (${name} is missing): enroll first with "coffer-agent enroll --controller HOST:PORT --token TOKEN --data-dir ${this.dir}"`);
      }
      throw new AgentError(`cannot read ${path}: ${(err as Error).message}`);
    }
  }
}
