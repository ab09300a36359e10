#!/usr/bin/env node
// `npm start`: Coffer on this machine with nothing else installed — the controller on its
// embedded database, a repository under its data dir and one local agent, enrolled on the
// first start. Runs until Ctrl-C; a second start reuses everything.
//
//   node scripts/start-local.mjs [--data-dir .coffer] [--http-port 8080] [--grpc-port 7443]
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const root = resolve(import.meta.dirname, '..');
const { values: args } = parseArgs({
  options: {
    'data-dir': { type: 'string', default: '.coffer' },
    'http-port': { type: 'string', default: process.env.COFFER_HTTP_PORT ?? '8080' },
    'grpc-port': { type: 'string', default: process.env.COFFER_GRPC_PORT ?? '7443' },
  },
});
const dataDir = resolve(args['data-dir']);
const controllerDir = join(dataDir, 'controller');
const agentDir = join(dataDir, 'agent');
mkdirSync(dataDir, { recursive: true, mode: 0o700 });

/** A secret kept in a 0600 file under the data dir, created on first use. */
function secretFile(name) {
  const path = join(dataDir, name);
  if (!existsSync(path)) writeFileSync(path, randomBytes(18).toString('base64url') + '\n', { mode: 0o600 });
  return path;
}
const adminPasswordFile = secretFile('admin-password');
const repositoryPasswordFile = secretFile('repository-password');
const readSecret = (path) => readFileSync(path, 'utf8').trim();

const children = [];
function start(label, script, argv, env = {}) {
  const child = spawn(process.execPath, [join(root, script), ...argv], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const prefix = (line) => line && process.stderr.write(`[${label}] ${line}\n`);
  for (const stream of [child.stdout, child.stderr]) {
    let pending = '';
    stream.on('data', (chunk) => {
      const lines = (pending + chunk).split('\n');
      pending = lines.pop();
      lines.forEach(prefix);
    });
  }
  child.on('exit', (code, signal) => {
    if (!stopping) {
      process.stderr.write(`[${label}] exited (${signal ?? code}); stopping Coffer\n`);
      stop(1);
    }
  });
  children.push(child);
  return child;
}

let stopping = false;
function stop(code = 0) {
  stopping = true;
  for (const child of children) child.kill('SIGTERM');
  setTimeout(() => process.exit(code), 3000).unref();
  Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.on('exit', r)) : null))).then(() => process.exit(code));
}
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));

async function waitFor(what, probe, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function api(baseUrl, token, method, path, body) {
  const response = await fetch(baseUrl + path, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = response.status === 204 ? null : await response.json();
  if (!response.ok) throw new Error(`${method} ${path}: ${json?.error?.message ?? response.status}`);
  return json;
}

const coffer = (argv, input) =>
  spawnSync(process.execPath, [join(root, 'apps/cli/bin/coffer.js'), ...argv], { input, encoding: 'utf8' });

async function main() {
  start('controller', 'apps/controller/bin/coffer-controller.js', ['--data-dir', controllerDir, '--http-port', args['http-port'], '--grpc-port', args['grpc-port']], {
    COFFER_ADMIN_PASSWORD: readSecret(adminPasswordFile),
  });
  const info = await waitFor('the controller to start', async () => {
    const runtime = JSON.parse(readFileSync(join(controllerDir, 'controller.json'), 'utf8'));
    const ready = await fetch(runtime.httpUrl + '/readyz');
    return ready.ok ? runtime : undefined;
  });
  const login = await api(info.httpUrl, null, 'POST', '/api/v1/auth/login', { username: 'admin', password: readSecret(adminPasswordFile) });

  const repositories = await api(info.httpUrl, login.token, 'GET', '/api/v1/repositories');
  if (!repositories.some((r) => r.name === 'local')) {
    await api(info.httpUrl, login.token, 'POST', '/api/v1/repositories', {
      name: 'local',
      url: join(dataDir, 'repository'),
      password: readSecret(repositoryPasswordFile),
      initialize: true,
    });
  }

  if (!existsSync(join(agentDir, 'agent.json'))) {
    const token = await api(info.httpUrl, login.token, 'POST', '/api/v1/tokens', { labels: { local: 'true' }, ttl: '10m', uses: 1 });
    const tokenFile = join(dataDir, 'join-token');
    writeFileSync(tokenFile, token.token + '\n', { mode: 0o600 });
    const agentName = hostname().toLowerCase().replace(/[^a-z0-9._-]/g, '-').replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '') || 'local';
    const enroll = spawnSync(process.execPath, [join(root, 'apps/agent/bin/coffer-agent.js'), 'enroll', '--controller', `127.0.0.1:${info.grpcPort}`, '--token-file', tokenFile, '--data-dir', agentDir, '--name', agentName], { encoding: 'utf8' });
    if (enroll.status !== 0) throw new Error(`enrolling the local agent failed: ${enroll.stderr.trim() || enroll.stdout.trim()}`);
  }
  start('agent', 'apps/agent/bin/coffer-agent.js', ['run', '--data-dir', agentDir]);

  // Log the CLI in for this user, so the quick start's commands work right away.
  const cliLogin = coffer(['login', '--controller', info.httpUrl, '--user', 'admin', '--password-stdin'], readSecret(adminPasswordFile) + '\n');
  const loggedIn = cliLogin.status === 0;

  process.stdout.write(
    [
      '',
      'Coffer is running.',
      `  API:        ${info.httpUrl}/api/v1   (OpenAPI: ${info.httpUrl}/api/docs)`,
      `  Agents:     127.0.0.1:${info.grpcPort} (gRPC, mutual TLS); a local agent is enrolled and connected`,
      `  Repository: "local" at ${join(dataDir, 'repository')}`,
      `  Log in:     npx coffer login --controller ${info.httpUrl} --user admin   (password in ${adminPasswordFile})`,
      loggedIn ? '              (the coffer CLI is already logged in for you)' : `              (automatic CLI login failed: ${cliLogin.stderr.trim()})`,
      '',
      'Next: npx coffer agents; npx coffer apply -f examples/policy.yaml; npx coffer run docs --wait; npx coffer snapshots',
      'Stop with Ctrl-C.',
      '',
    ].join('\n'),
  );
}

main().catch((error) => {
  process.stderr.write(`coffer start: ${error.message}\n`);
  stop(1);
});
