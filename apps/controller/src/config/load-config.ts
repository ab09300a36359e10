import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { AppConfig, LOG_LEVEL_NAMES, LogLevelName } from './app-config';
import type { CommandLineOptions } from './command-line';

/**
 * Every setting validated, before the data directory is touched. The master key is here
 * only when COFFER_MASTER_KEY gave it; otherwise start-up reads or creates the key file
 * and builds the final AppConfig with `completeConfig`.
 */
export type StartupConfig = Readonly<Omit<AppConfig, 'masterKey'> & { masterKey: Buffer | null }>;

/** One bad setting: the option or variable it came from, and what is wrong. */
export interface ConfigProblem {
  name: string;
  reason: string;
}

/** Configuration that cannot be used; the message names every bad setting. */
export class ConfigError extends Error {
  constructor(readonly problems: ConfigProblem[]) {
    super(`invalid configuration:\n${problems.map((p) => `  ${p.name}: ${p.reason}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const DEFAULTS = {
  httpHost: '127.0.0.1',
  httpPort: '8080',
  grpcHost: '0.0.0.0',
  grpcPort: '7443',
  heartbeatInterval: '10s',
  offlineAfterMissed: '3',
  schedulerTick: '1s',
  logLevel: 'info',
};

/**
 * Reads the configuration from the command line (which wins) and the environment.
 * Throws ConfigError naming every bad setting at once; never echoes a secret.
 */
export function loadConfig(options: CommandLineOptions, env: NodeJS.ProcessEnv): StartupConfig {
  const problems: ConfigProblem[] = [];
  const check = <T>(name: string, text: string, parse: (text: string) => Parsed<T>): T => {
    const result = parse(text);
    if ('problem' in result) {
      problems.push({ name, reason: result.problem });
      return undefined as T; // never used: a problem throws below
    }
    return result.value;
  };
  // A flag given on the command line wins and is reported under its own name; blank means unset.
  const read = (variable: string, fallback: string, flag?: { key: keyof CommandLineOptions; name: string }) => {
    const fromFlag = flag && options[flag.key];
    if (flag && fromFlag !== undefined && fromFlag.trim() !== '') return { name: flag.name, text: fromFlag };
    const fromEnv = env[variable];
    return { name: variable, text: fromEnv === undefined || fromEnv.trim() === '' ? fallback : fromEnv };
  };

  const dataDirText = read('COFFER_DATA_DIR', '', { key: 'dataDir', name: '--data-dir' }).text;
  if (dataDirText === '') problems.push({ name: 'COFFER_DATA_DIR', reason: 'is required: give --data-dir DIR or set COFFER_DATA_DIR' });
  const dataDir = dataDirText === '' ? '' : resolve(dataDirText);

  const httpHost = read('COFFER_HTTP_HOST', DEFAULTS.httpHost, { key: 'httpHost', name: '--http-host' });
  const httpPort = read('COFFER_HTTP_PORT', DEFAULTS.httpPort, { key: 'httpPort', name: '--http-port' });
  const grpcHost = read('COFFER_GRPC_HOST', DEFAULTS.grpcHost, { key: 'grpcHost', name: '--grpc-host' });
  const grpcPort = read('COFFER_GRPC_PORT', DEFAULTS.grpcPort, { key: 'grpcPort', name: '--grpc-port' });
  const heartbeat = read('COFFER_HEARTBEAT_INTERVAL', DEFAULTS.heartbeatInterval);
  const offline = read('COFFER_OFFLINE_AFTER_MISSED', DEFAULTS.offlineAfterMissed);
  const tick = read('COFFER_SCHEDULER_TICK', DEFAULTS.schedulerTick);
  const logLevel = read('COFFER_LOG_LEVEL', DEFAULTS.logLevel);

  const config: StartupConfig = {
    dataDir,
    httpHost: check(httpHost.name, httpHost.text, parseHost),
    httpPort: check(httpPort.name, httpPort.text, parsePort),
    grpcHost: check(grpcHost.name, grpcHost.text, parseHost),
    grpcPort: check(grpcPort.name, grpcPort.text, parsePort),
    databaseUrl: optional(env.DATABASE_URL, (text) => check('DATABASE_URL', text, parseDatabaseUrl)),
    masterKey: optional(env.COFFER_MASTER_KEY, (text) => check('COFFER_MASTER_KEY', text, parseMasterKey)),
    adminPassword: optional(env.COFFER_ADMIN_PASSWORD, (text) => check('COFFER_ADMIN_PASSWORD', text, parseAdminPassword), false),
    heartbeatIntervalSeconds: check(heartbeat.name, heartbeat.text, parseHeartbeatSeconds),
    offlineAfterMissedHeartbeats: check(offline.name, offline.text, parseMissedHeartbeats),
    tlsServerNames: check('COFFER_TLS_SERVER_NAMES', env.COFFER_TLS_SERVER_NAMES ?? '', parseServerNames),
    schedulerTickMs: check(tick.name, tick.text, parseSchedulerTick),
    logLevel: check(logLevel.name, logLevel.text, parseLogLevel),
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(config);
}

/** The final, frozen configuration once the master key is known. */
export function completeConfig(startup: StartupConfig, masterKey: Buffer): AppConfig {
  return Object.freeze(Object.assign(new AppConfig(), { ...startup, tlsServerNames: Object.freeze([...startup.tlsServerNames]), masterKey }));
}

/** What a setting parser returns: the value, or why the text is not one. */
export type Parsed<T> = { value: T } | { problem: string };
const ok = <T>(value: T): Parsed<T> => ({ value });
const bad = (problem: string): Parsed<never> => ({ problem });

/** Unset or blank means "not given" (null); `trim` false keeps a password's spaces. */
function optional<T>(text: string | undefined, parse: (text: string) => T, trim = true): T | null {
  if (text === undefined || (trim ? text.trim() : text) === '') return null;
  return parse(trim ? text.trim() : text);
}

/** Quotes a value for a message, shortened so a pasted blob does not flood the terminal. */
function quote(text: string): string {
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 77)}...` : text);
}

function parsePort(text: string): Parsed<number> {
  const trimmed = text.trim();
  const port = Number(trimmed);
  if (!/^\d+$/.test(trimmed) || port > 65535) return bad(`must be a port number 0-65535, got ${quote(text)}`);
  return ok(port);
}

const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

function parseHost(text: string): Parsed<string> {
  const host = text.trim().replace(/^\[(.*)\]$/, '$1');
  if (isIP(host) === 0 && !HOSTNAME.test(host)) return bad(`must be an IP address or host name, got ${quote(text)}`);
  return ok(host);
}

/** The URL with its password masked, for messages. */
export function maskDatabaseUrl(url: string): string {
  return url.replace(/(\/\/[^/@:]*):[^/@]*@/, '$1:***@');
}

function parseDatabaseUrl(text: string): Parsed<string> {
  const trimmed = text.trim();
  const example = 'postgres://user:password@host:5432/database';
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    return bad(`must be a URL like ${example}, got ${quote(maskDatabaseUrl(trimmed))}`);
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    return bad(`must be a postgres:// or postgresql:// URL like ${example}, got ${quote(maskDatabaseUrl(trimmed))}`);
  }
  if (url.hostname === '' && !url.searchParams.has('host')) return bad(`names no host: ${quote(maskDatabaseUrl(trimmed))} (like ${example})`);
  return ok(trimmed);
}

/** 32 bytes as base64 (standard or URL alphabet) or as 64 hex digits. The value is never echoed. */
export function parseMasterKey(text: string): Parsed<Buffer> {
  const trimmed = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) return ok(Buffer.from(trimmed, 'hex'));
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(trimmed)) {
    const key = Buffer.from(trimmed.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (key.length === 32) return ok(key);
  }
  return bad(`must be 32 bytes as base64 (44 characters) or as 64 hex digits; the value given has ${trimmed.length} characters (generate one with: openssl rand -base64 32)`);
}

function parseAdminPassword(text: string): Parsed<string> {
  if (text.length < 8) return bad(`must be at least 8 characters (the value given has ${text.length})`);
  return ok(text);
}

/** "10s", "1m", "1500ms", "1h30m": milliseconds, or undefined. */
export function parseDurationMs(text: string): number | undefined {
  const trimmed = text.trim();
  if (!/^(?:\d+(?:ms|[smhd]))+$/.test(trimmed)) return undefined;
  const unitMs: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
  let total = 0;
  for (const [, amount, unit] of trimmed.matchAll(/(\d+)(ms|[smhd])/g)) total += Number(amount) * unitMs[unit];
  return total;
}

function parseHeartbeatSeconds(text: string): Parsed<number> {
  const ms = parseDurationMs(text);
  if (ms === undefined || ms < 1000 || ms % 1000 !== 0 || ms > 3_600_000) {
    return bad(`must be a whole number of seconds from 1s to 1h, like "10s" or "1m", got ${quote(text)}`);
  }
  return ok(ms / 1000);
}

function parseMissedHeartbeats(text: string): Parsed<number> {
  const trimmed = text.trim();
  if (!/^\d+$/.test(trimmed) || Number(trimmed) < 1 || Number(trimmed) > 1000) return bad(`must be a whole number from 1 to 1000, got ${quote(text)}`);
  return ok(Number(trimmed));
}

function parseSchedulerTick(text: string): Parsed<number> {
  const ms = parseDurationMs(text);
  if (ms === undefined || ms < 10 || ms > 3_600_000) return bad(`must be a duration from 10ms to 1h, like "1s" or "200ms", got ${quote(text)}`);
  return ok(ms);
}

function parseServerNames(text: string): Parsed<string[]> {
  const names = text
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  const invalid = names.filter((name) => isIP(name) === 0 && !HOSTNAME.test(name));
  if (invalid.length > 0) return bad(`must be DNS names or IP addresses separated by commas; not valid: ${invalid.map(quote).join(', ')}`);
  return ok([...new Set(names)]);
}

function parseLogLevel(text: string): Parsed<LogLevelName> {
  const level = text.trim().toLowerCase();
  if (!(LOG_LEVEL_NAMES as readonly string[]).includes(level)) return bad(`must be one of ${LOG_LEVEL_NAMES.join(', ')}, got ${quote(text)}`);
  return ok(level as LogLevelName);
}
