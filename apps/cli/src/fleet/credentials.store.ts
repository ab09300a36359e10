import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { CliError } from '../shared/cli-error';
import { formatLocalTime } from '../shared/format';
import { ControllerConnection, loginAdvice, NotLoggedInError } from './controller-client';

/** What `coffer login` keeps: one session, for one controller. */
export interface StoredCredentials {
  controller: string;
  user: string;
  token: string;
  expiresAt: string;
}

const FILE_NAME = 'credentials.json';

/**
 * The session file, `credentials.json` in the config directory. The directory is kept 700
 * and the file 600 whatever the umask, and the file is replaced in one rename, so a reader
 * never sees half a token and no other user can read one.
 */
export class CredentialsStore {
  constructor(readonly dir: string) {}

  /** $COFFER_CONFIG_DIR, else $XDG_CONFIG_HOME/coffer, else ~/.config/coffer. */
  static fromEnvironment(env: NodeJS.ProcessEnv = process.env): CredentialsStore {
    if (env.COFFER_CONFIG_DIR) return new CredentialsStore(env.COFFER_CONFIG_DIR);
    if (env.XDG_CONFIG_HOME) return new CredentialsStore(join(env.XDG_CONFIG_HOME, 'coffer'));
    return new CredentialsStore(join(homedir(), '.config', 'coffer'));
  }

  get file(): string {
    return join(this.dir, FILE_NAME);
  }

  /** The stored session; undefined when there is none. A damaged file is an error that says what to do. */
  load(): StoredCredentials | undefined {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new CliError(`cannot read ${this.file}: ${(err as Error).message}`);
    }
    let parsed: Partial<StoredCredentials> | null = null;
    try {
      parsed = JSON.parse(text) as Partial<StoredCredentials> | null;
    } catch {
      // reported below
    }
    const fields = ['controller', 'user', 'token', 'expiresAt'] as const;
    if (parsed === null || typeof parsed !== 'object' || fields.some((f) => typeof parsed![f] !== 'string')) {
      throw new CliError(`${this.file} is damaged: run coffer login again (or delete the file)`);
    }
    return { controller: parsed.controller!, user: parsed.user!, token: parsed.token!, expiresAt: parsed.expiresAt! };
  }

  save(credentials: StoredCredentials): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    // mkdir leaves an existing directory's mode alone, and its mode is subject to the umask.
    chmodSync(this.dir, 0o700);
    const temporary = join(this.dir, `.${FILE_NAME}.${process.pid}.tmp`);
    // A leftover of a crashed run could have other modes: start from no file ("wx").
    rmSync(temporary, { force: true });
    try {
      writeFileSync(temporary, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
      chmodSync(temporary, 0o600); // exactly 600: an odd umask (0277) would leave less
      renameSync(temporary, this.file);
    } catch (err) {
      rmSync(temporary, { force: true });
      throw err;
    }
  }

  /** Deletes the stored session; false when there was none. */
  remove(): boolean {
    try {
      rmSync(this.file);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
  }
}

/**
 * "controller:8080/" → "http://controller:8080": the form URLs are compared and stored in.
 * Only http(s), no credentials, query or fragment; a path prefix (behind a proxy) is kept.
 */
export function normalizeControllerUrl(raw: string): string {
  const text = raw.trim();
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new CliError(`"${raw}" is not a controller URL: give one like http://controller:8080`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new CliError(`"${raw}" is not a controller URL: it must start with http:// or https://`);
  if (url.username || url.password) throw new CliError(`the controller URL must not hold a user or password: use coffer login --user NAME`);
  if (url.search || url.hash) throw new CliError(`"${raw}" is not a controller URL: leave out "?" and "#" parts`);
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

const NO_CONTROLLER = 'no controller given: pass --controller URL, set COFFER_CONTROLLER, or run coffer login --controller URL --user NAME';

/**
 * Where and as whom a command talks to the controller.
 *   controller: --controller, else $COFFER_CONTROLLER, else the one stored by `coffer login`;
 *   token:      $COFFER_TOKEN, else the stored one, but only when the stored session is for
 *               that same controller: a token is never sent to a server it was not issued by.
 * An expired stored session fails here, before any request.
 */
export function resolveConnection(
  controllerOption: string | undefined,
  store: CredentialsStore,
  env: NodeJS.ProcessEnv = process.env,
  now: Date = new Date(),
): ControllerConnection {
  const stored = store.load();
  const raw = nonEmpty(controllerOption) ?? nonEmpty(env.COFFER_CONTROLLER) ?? stored?.controller;
  if (raw === undefined) throw new CliError(NO_CONTROLLER);
  const controller = normalizeControllerUrl(raw);
  const session = stored && sameController(stored.controller, controller) ? stored : undefined;
  const envToken = nonEmpty(env.COFFER_TOKEN);
  if (envToken !== undefined) return { controller, token: envToken, user: session?.user };
  if (session === undefined) return { controller };
  const expires = Date.parse(session.expiresAt);
  if (Number.isFinite(expires) && expires <= now.getTime()) {
    throw new NotLoggedInError(`the session for ${controller} expired at ${formatLocalTime(session.expiresAt)}: ${loginAdvice(controller, session.user)}`);
  }
  return { controller, token: session.token, user: session.user };
}

function sameController(a: string, b: string): boolean {
  try {
    return normalizeControllerUrl(a) === normalizeControllerUrl(b);
  } catch {
    return false;
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}
