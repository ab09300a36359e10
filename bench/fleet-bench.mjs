#!/usr/bin/env node
// Fleet benchmark: simulated agents (real gRPC streams over mutual TLS) against one real
// controller.
//
//   npm run bench:fleet                       # 1,000 then 5,000 agents, 30 s windows
//   npm run bench:fleet -- --quick            # smoke run: 200 agents, 10 s window
//   npm run bench:fleet -- --agents 1000 --procs 2 --no-write
//
// What it does (details in the section it writes to BENCHMARKS.md):
//  1. Creates a fresh PostgreSQL database on the machine's server, starts
//     `node apps/controller/bin/coffer-controller.js` on it (ports 0, heartbeat 10 s) and
//     logs in as admin.
//  2. Optionally enrolls and runs one REAL agent (apps/agent) and reads its idle RSS.
//  3. For each fleet size (default 1000, then 5000 on the same controller: the second
//     phase enrolls the difference): the simulator processes (bench/fleet-sim-worker.mjs)
//     enroll the new agents (own key + CSR + Enroll each), open one Connect stream per
//     agent, heartbeat at the interval the controller sends in welcome. Once the API lists
//     every agent online it waits --settle seconds, then measures for --window seconds:
//     controller CPU (utime+stime of /proc/PID/stat) and RSS, the PostgreSQL backends of
//     the bench database, the simulators, the whole machine, and heartbeats sent per
//     second (cross-checked against lastSeenAt in the API).
//  4. Dispatch burst: a policy selecting --burst agents (label group=g<k>) is first run for
//     --warmup single agents, then once for all of them (one job per agent); latency = time
//     the simulated agent received run_job − the job's createdAt, split at the job's
//     `dispatched` transition time (when the controller handed run_job to the stream).
//     PostgreSQL transactions per job come from pg_stat_database of the bench database.
//  5. Prints the table and replaces the section between <!-- bench:fleet:start --> and
//     <!-- bench:fleet:end --> in BENCHMARKS.md. Raw numbers: bench/.data/fleet/.
// With --cpu-prof the controller runs under `node --cpu-prof`; the profile is cut to the
// enrollment, stream-opening, steady-state and burst windows (hrtime and V8's profile clock
// are both CLOCK_MONOTONIC) and summarised.
// Every process it started and the database are removed at the end, also on Ctrl-C. Only one
// fleet benchmark runs per machine (lock in the OS temp dir).
// Needs the built packages (npm run build): apps/controller, apps/agent, libs/contracts.

import { execFileSync, fork, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { parseCommandLine, UsageError } from './lib/command-line.mjs';
import { writeMarkedSection } from './lib/report.mjs';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(REPO_ROOT, 'package.json'));
const OUT_DIR = path.join(REPO_ROOT, 'bench', '.data', 'fleet');
const CONTROLLER_BIN = path.join(REPO_ROOT, 'apps', 'controller', 'bin', 'coffer-controller.js');
const AGENT_BIN = path.join(REPO_ROOT, 'apps', 'agent', 'bin', 'coffer-agent.js');
const WORKER = path.join(REPO_ROOT, 'bench', 'fleet-sim-worker.mjs');
const MARK_START = '<!-- bench:fleet:start -->';
const MARK_END = '<!-- bench:fleet:end -->';
const ADMIN_URL = process.env.BENCH_PG_ADMIN_URL ?? 'postgres://root@127.0.0.1:5432/postgres';

const TARGETS = {
  controllerCpuPct: 50, // % of one core at steady state, at the largest fleet (5,000)
  dispatchP99Ms: 250,
  agentIdleRssMiB: 60,
};

const USAGE = `Usage: node bench/fleet-bench.mjs [options]   (or: npm run bench:fleet -- [options])

  --agents LIST        fleet sizes, grown on one controller (default 1000,5000)
  --window S           steady-state measurement window, seconds (default 30)
  --settle S           wait after every agent is online, seconds (default 15)
  --procs K            simulator processes (default 4)
  --burst N            jobs in the dispatch burst, one per agent (default 1000)
  --heartbeat D        COFFER_HEARTBEAT_INTERVAL for the controller (default 10s)
  --enroll-concurrency N  Enroll calls in flight across all simulators (default 32)
  --bursts N           bursts per phase, back to back (default 2: the first after start
                       is reported as "cold", the targets use the last)
  --warmup N           single-agent runs of the burst policy before the burst (default 5; 0 = none)
  --job-ms MS          how long a simulated job "runs" between job_accepted and
                       job_finished (default 0: both at once)
  --quick              smoke run: --agents 200 --window 10 --settle 5 --procs 2
  --no-real-agent      skip the real agent's idle RSS measurement
  --idle S             how long the real agent idles before its RSS is read (default 20)
  --cpu-prof           run the controller with --cpu-prof; summarise the steady-state windows
  --out FILE           markdown file to update (default BENCHMARKS.md)
  --no-write           print only, leave BENCHMARKS.md alone
  --keep               keep the controller's data dir (printed) and database
  -h, --help           this text
`;

const t0Global = performance.now();
const log = (msg) => console.log(`[fleet ${((performance.now() - t0Global) / 1000).toFixed(1).padStart(6)}s] ${msg}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const MiB = 1024 * 1024;


function parseOptions() {
  const values = parseCommandLine(
    {
      agents: { type: 'string' },
      window: { type: 'string' },
      settle: { type: 'string' },
      procs: { type: 'string' },
      burst: { type: 'string' },
      heartbeat: { type: 'string', default: '10s' },
      'enroll-concurrency': { type: 'string', default: '32' },
      'job-ms': { type: 'string', default: '0' },
      warmup: { type: 'string', default: '5' },
      bursts: { type: 'string', default: '2' },
      quick: { type: 'boolean', default: false },
      'no-real-agent': { type: 'boolean', default: false },
      idle: { type: 'string', default: '20' },
      'cpu-prof': { type: 'boolean', default: false },
      out: { type: 'string' },
      'no-write': { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
    },
    USAGE,
  );
  const q = values.quick;
  const intList = (text, name) => {
    const list = text.split(',').map((s) => Number(s.trim()));
    if (list.length === 0 || list.some((n) => !Number.isInteger(n) || n < 1)) throw new UsageError(`--${name} must be positive integers separated by commas, got '${text}'`);
    for (let i = 1; i < list.length; i++) if (list[i] <= list[i - 1]) throw new UsageError(`--${name} must grow (the fleet is grown on one controller), got '${text}'`);
    return list;
  };
  const posInt = (text, name) => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${name} must be a positive integer, got '${text}'`);
    return n;
  };
  const posNum = (text, name) => {
    const n = Number(text);
    if (!(n >= 0)) throw new UsageError(`--${name} must be a number of seconds, got '${text}'`);
    return n;
  };
  const opts = {
    agents: intList(values.agents ?? (q ? '200' : '1000,5000'), 'agents'),
    window: posNum(values.window ?? (q ? '10' : '30'), 'window'),
    settle: posNum(values.settle ?? (q ? '5' : '15'), 'settle'),
    procs: posInt(values.procs ?? (q ? '2' : '4'), 'procs'),
    burst: posInt(values.burst ?? '1000', 'burst'),
    heartbeat: values.heartbeat,
    enrollConcurrency: posInt(values['enroll-concurrency'], 'enroll-concurrency'),
    jobMs: posNum(values['job-ms'], 'job-ms'),
    bursts: posInt(values.bursts, 'bursts'),
    warmup: Number.isInteger(Number(values.warmup)) && Number(values.warmup) >= 0 ? Number(values.warmup) : (() => { throw new UsageError(`--warmup must be 0 or more, got '${values.warmup}'`); })(),
    quick: q,
    realAgent: !values['no-real-agent'],
    idle: posNum(values.idle, 'idle'),
    cpuProf: values['cpu-prof'],
    out: path.resolve(REPO_ROOT, values.out ?? 'BENCHMARKS.md'),
    write: !values['no-write'],
    keep: values.keep,
  };
  if (!/^\d+(s|m)$/.test(opts.heartbeat)) throw new UsageError(`--heartbeat must be like 10s or 1m, got '${opts.heartbeat}'`);
  return opts;
}

// ============================================================================ /proc

const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** utime+stime of a process in seconds (all threads), or null when it is gone. */
function cpuSeconds(pid) {
  try {
    const text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state); utime is field 14, stime field 15.
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return null;
  }
}

/** VmRSS and VmHWM in bytes, or null. */
function memOf(pid) {
  try {
    const text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN) * 1024;
    return { rss: kb('VmRSS'), hwm: kb('VmHWM'), threads: Number(/^Threads:\s+(\d+)/m.exec(text)?.[1] ?? NaN) };
  } catch {
    return null;
  }
}

function fdCount(pid) {
  try {
    return fs.readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return null;
  }
}

function nofileLimit(pid = 'self') {
  try {
    const m = /^Max open files\s+(\S+)\s+(\S+)/m.exec(fs.readFileSync(`/proc/${pid}/limits`, 'utf8'));
    const n = (s) => (s === 'unlimited' ? Infinity : Number(s));
    return { soft: n(m[1]), hard: n(m[2]) };
  } catch {
    return null;
  }
}

/** Children of a process, recursively (for the real agent's helpers). */
function descendants(pid) {
  const out = [];
  try {
    const children = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    for (const c of children) out.push(c, ...descendants(c));
  } catch {
    /* gone */
  }
  return out;
}

/** Aggregate CPU jiffies of the machine: {busy, total}. */
function machineJiffies() {
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = line[3] + (line[4] ?? 0);
  const total = line.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

function sumCpu(pids) {
  let s = 0;
  for (const pid of pids) s += cpuSeconds(pid) ?? 0;
  return s;
}

/** CPU seconds of the controller, the simulators and the bench database's backends, now. */
async function cpuTriple(controllerPid, workers) {
  return { c: cpuSeconds(controllerPid), w: sumCpu(workers.map((w) => w.pid)), p: cpuSnapshot(await pgBackendPids()), t: performance.now() };
}

function cpuTripleDelta(a, b) {
  const secs = (b.t - a.t) / 1000;
  return {
    controllerPct: ((b.c - a.c) / secs) * 100,
    simulatorsPct: ((b.w - a.w) / secs) * 100,
    pgPct: (cpuBetween(a.p, b.p) / secs) * 100,
  };
}

/** CPU snapshot of a changing set of processes (PostgreSQL backends come and go with the pool). */
function cpuSnapshot(pids) {
  const m = new Map();
  for (const pid of pids) {
    const c = cpuSeconds(pid);
    if (c !== null) m.set(pid, c);
  }
  return m;
}

/** CPU seconds between two snapshots: per process; a process new at the end counts whole, one gone is lost (undercount). */
function cpuBetween(before, after) {
  let s = 0;
  for (const [pid, c] of after) s += c - (before.get(pid) ?? 0);
  return s;
}

// ============================================================================ helpers

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx];
}

const fmt = (n, digits = 1) => (n === null || n === undefined || Number.isNaN(n) ? 'n/a' : Number(n).toFixed(digits));
const fmtMs = (n) => (n === null || n === undefined || Number.isNaN(n) ? 'n/a' : `${Math.round(n)} ms`);
const fmtMiB = (b) => (b === null || b === undefined || Number.isNaN(b) ? 'n/a' : `${(b / MiB).toFixed(1)} MiB`);
const fmtInt = (n) => (n === null || n === undefined || Number.isNaN(n) ? 'n/a' : Math.round(n).toLocaleString('en-US'));

function tailOf(file, lines = 30) {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

async function waitFor(what, fn, { timeoutMs, intervalMs = 250, onTimeout }) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    if (state.aborted) throw new Error('aborted');
    try {
      last = await fn();
      if (last) return last;
    } catch (error) {
      last = error;
    }
    await sleep(intervalMs);
  }
  const extra = onTimeout ? `\n${onTimeout(last)}` : last instanceof Error ? ` (last error: ${last.message})` : '';
  throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}${extra}`);
}

// ============================================================================ state & cleanup

const state = {
  aborted: false,
  db: null, // database name
  dataDir: null,
  controller: null, // ChildProcess
  realAgent: null,
  workers: [],
  keep: false,
  cleaning: null,
};

async function pgQuery(sql, params = []) {
  const { Client } = require('pg');
  const client = new Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    return await client.query(sql, params);
  } finally {
    await client.end();
  }
}

function killChild(child, signal = 'SIGTERM', graceMs = 10_000) {
  return new Promise((resolve) => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => {
      try {
        child.kill('SIGKILL');
      } catch {
        /* gone */
      }
    }, graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    try {
      child.kill(signal);
    } catch {
      clearTimeout(timer);
      resolve();
    }
  });
}

async function cleanup() {
  if (state.cleaning) return state.cleaning;
  state.cleaning = (async () => {
    // Simulators first (they would otherwise reconnect to a stopping controller).
    await Promise.all(
      state.workers.map(async (w) => {
        try {
          await Promise.race([w.request({ type: 'shutdown' }), sleep(3000)]);
        } catch {
          /* gone */
        }
        await killChild(w.child, 'SIGTERM', 2000);
      }),
    );
    await killChild(state.realAgent, 'SIGTERM', 5000);
    await killChild(state.controller, 'SIGTERM', 15_000);
    if (state.db && !state.keep) {
      try {
        await pgQuery(`DROP DATABASE IF EXISTS "${state.db}" WITH (FORCE)`);
      } catch (error) {
        console.error(`[fleet] could not drop database ${state.db}: ${error.message}`);
      }
    }
    if (state.dataDir && !state.keep) fs.rmSync(state.dataDir, { recursive: true, force: true });
    if (state.keep) console.error(`[fleet] kept data dir ${state.dataDir} and database ${state.db}`);
  })();
  return state.cleaning;
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    if (state.aborted) return;
    state.aborted = true;
    console.error(`\n[fleet] ${signal}: stopping every process and dropping the database…`);
    cleanup().finally(() => process.exit(130));
  });
}

// ============================================================================ controller

class Api {
  constructor(baseUrl) {
    this.baseUrl = baseUrl.replace(/\/$/, '');
    this.token = null;
  }

  async call(method, route, body, { expect = [200, 201, 204], timeoutMs = 120_000 } = {}) {
    const headers = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    const res = await fetch(this.baseUrl + route, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    let json = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      /* not JSON */
    }
    if (!expect.includes(res.status)) {
      const err = new Error(`${method} ${route} → ${res.status}: ${text.slice(0, 500)}`);
      err.status = res.status;
      err.body = json;
      throw err;
    }
    return json;
  }
}

async function createDatabase() {
  const name = `coffer_bench_${crypto.randomBytes(4).toString('hex')}`;
  await pgQuery(`CREATE DATABASE "${name}"`);
  state.db = name;
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

async function startController(opts) {
  if (!fs.existsSync(path.join(REPO_ROOT, 'apps', 'controller', 'dist', 'main.js'))) {
    throw new Error('the controller is not built (apps/controller/dist/main.js is missing): run `npm run build` first');
  }
  const databaseUrl = await createDatabase();
  log(`database ${state.db} created`);
  state.dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'coffer-fleet-'));
  const adminPassword = crypto.randomBytes(12).toString('base64url');
  const logFile = path.join(OUT_DIR, 'controller.log');
  const out = fs.openSync(logFile, 'w');
  const nodeArgs = [];
  let profDir = null;
  if (opts.cpuProf) {
    profDir = path.join(OUT_DIR, 'cpu-prof');
    fs.rmSync(profDir, { recursive: true, force: true });
    fs.mkdirSync(profDir, { recursive: true });
    nodeArgs.push('--cpu-prof', '--cpu-prof-dir', profDir);
  }
  const env = {
    ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('COFFER_') && k !== 'DATABASE_URL')),
    DATABASE_URL: databaseUrl,
    COFFER_ADMIN_PASSWORD: adminPassword,
    COFFER_HEARTBEAT_INTERVAL: opts.heartbeat,
  };
  const args = [...nodeArgs, CONTROLLER_BIN, '--data-dir', state.dataDir, '--http-port', '0', '--grpc-port', '0'];
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, env, stdio: ['ignore', out, out] });
  fs.closeSync(out);
  state.controller = child;
  let exited = null;
  child.once('exit', (code, signal) => {
    exited = { code, signal };
    if (!state.cleaning && !state.aborted) console.error(`[fleet] the controller exited unexpectedly (code ${code}, signal ${signal}); log tail:\n${tailOf(logFile)}`);
  });
  const infoFile = path.join(state.dataDir, 'controller.json');
  const info = await waitFor(
    'the controller to write controller.json',
    () => {
      if (exited) throw Object.assign(new Error(`the controller exited (code ${exited.code}) before it was ready:\n${tailOf(logFile)}`), { fatal: true });
      if (!fs.existsSync(infoFile)) return null;
      const j = JSON.parse(fs.readFileSync(infoFile, 'utf8'));
      return j.httpUrl ? j : null;
    },
    { timeoutMs: 90_000, onTimeout: () => `controller log tail:\n${tailOf(logFile)}` },
  ).catch((e) => {
    throw e;
  });
  if (!info.grpcPort) {
    throw new Error(`the controller runs without an agent gateway (controller.json says grpcPort ${info.grpcPort}); controller log tail:\n${tailOf(logFile, 15)}`);
  }
  const api = new Api(info.httpUrl);
  await waitFor('GET /readyz == 200', async () => {
    if (exited) throw new Error('controller exited');
    const res = await fetch(`${api.baseUrl}/readyz`, { signal: AbortSignal.timeout(5000) });
    return res.status === 200;
  }, { timeoutMs: 90_000, onTimeout: () => `controller log tail:\n${tailOf(logFile)}` });
  const login = await api.call('POST', '/api/v1/auth/login', { username: 'admin', password: adminPassword });
  api.token = login.token;
  const pid = info.pid ?? child.pid;
  if (info.pid && info.pid !== child.pid) log(`note: controller.json names pid ${info.pid}, the spawned process is ${child.pid}; measuring ${info.pid}`);
  return { api, pid, grpcPort: info.grpcPort, httpUrl: info.httpUrl, logFile, profDir, databaseUrl };
}

/** Reads the chain the gRPC port presents; finds the CA by the join token's fingerprint. */
async function fetchTrust(grpcPort, tokenText) {
  const { parseJoinToken } = require('@coffer/contracts');
  const parts = parseJoinToken(tokenText);
  if (!parts) throw new Error(`the controller issued a join token that does not parse: ${tokenText.slice(0, 20)}…`);
  const chain = await new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port: grpcPort, rejectUnauthorized: false, ALPNProtocols: ['h2'], servername: 'localhost' }, () => {
      const certs = [];
      let cert = socket.getPeerCertificate(true);
      const seen = new Set();
      while (cert && cert.raw && !seen.has(cert.fingerprint256)) {
        seen.add(cert.fingerprint256);
        certs.push(cert);
        cert = cert.issuerCertificate;
      }
      socket.end();
      resolve(certs);
    });
    socket.once('error', reject);
    socket.setTimeout(10_000, () => socket.destroy(new Error('TLS handshake timed out')));
  });
  const fp = (raw) => crypto.createHash('sha256').update(raw).digest('base64url');
  let caRaw = chain.find((c) => fp(c.raw) === parts.caFingerprint)?.raw;
  let caSource = 'the chain presented on the gRPC port';
  if (!caRaw) {
    // Same machine: fall back to the CA file in the data dir.
    for (const candidate of [path.join(state.dataDir, 'pki', 'ca.crt'), path.join(state.dataDir, 'ca.crt')]) {
      if (!fs.existsSync(candidate)) continue;
      const pem = fs.readFileSync(candidate, 'utf8');
      const raw = new crypto.X509Certificate(pem).raw;
      if (fp(raw) === parts.caFingerprint) {
        caRaw = raw;
        caSource = candidate;
        break;
      }
    }
  }
  if (!caRaw) throw new Error(`no CA matching the token's fingerprint: the chain has ${chain.length} certificate(s) and no matching ca.crt was found in the data dir`);
  const caPem = new crypto.X509Certificate(caRaw).toString();
  const leaf = chain[0];
  const sans = (leaf?.subjectaltname ?? '').split(',').map((s) => s.trim());
  let serverName = null;
  if (sans.includes('DNS:localhost')) serverName = 'localhost';
  else if (!sans.includes('IP Address:127.0.0.1')) serverName = sans.find((s) => s.startsWith('DNS:'))?.slice(4) ?? leaf?.subject?.CN ?? null;
  return { caPem, caSource, serverName, chainLength: chain.length, leafSans: sans.join(', ') };
}

// ============================================================================ simulators

class Worker {
  constructor(index, logFile) {
    this.index = index;
    this.seq = 0;
    this.pending = new Map();
    const out = fs.openSync(logFile, 'a');
    this.child = fork(WORKER, [], {
      cwd: REPO_ROOT,
      execArgv: ['--no-deprecation', '--max-old-space-size=4096'],
      stdio: ['ignore', out, out, 'ipc'],
    });
    fs.closeSync(out);
    this.pid = this.child.pid;
    this.child.on('message', (m) => {
      if (m?.type === 'reply') {
        const p = this.pending.get(m.id);
        if (p) {
          this.pending.delete(m.id);
          if (m.error) p.reject(new Error(`simulator ${index}: ${m.error}`));
          else p.resolve(m);
        }
      } else if (m?.type === 'fatal') {
        console.error(`[fleet] simulator ${index} crashed: ${m.message}`);
      }
    });
    this.child.once('exit', (code, signal) => {
      for (const p of this.pending.values()) p.reject(new Error(`simulator ${index} exited (code ${code}, signal ${signal})`));
      this.pending.clear();
      if (!state.cleaning && !state.aborted) console.error(`[fleet] simulator ${index} exited unexpectedly (code ${code}, signal ${signal}); see ${logFile}`);
    });
  }

  request(body) {
    return new Promise((resolve, reject) => {
      if (!this.child.connected) return reject(new Error(`simulator ${this.index} is not running`));
      const id = ++this.seq;
      this.pending.set(id, { resolve, reject });
      this.child.send({ ...body, id });
    });
  }
}

async function allStats(workers) {
  return (await Promise.all(workers.map((w) => w.request({ type: 'stats' })))).map((r) => r.stats);
}

function sumStats(list) {
  const out = { agents: 0, connected: 0, heartbeatsSent: 0, welcomes: 0, reconnects: 0, welcomeTimeouts: 0, streamErrors: {}, enrollErrors: {}, rssBytes: 0, acks: 0, runJobs: 0, duplicateRunJobs: 0, writeBackpressure: 0, streamsOpened: 0 };
  for (const s of list) {
    for (const k of ['agents', 'connected', 'heartbeatsSent', 'welcomes', 'reconnects', 'welcomeTimeouts', 'rssBytes', 'acks', 'runJobs', 'duplicateRunJobs', 'writeBackpressure', 'streamsOpened']) out[k] += s[k];
    for (const [k, v] of Object.entries(s.streamErrors)) out.streamErrors[k] = (out.streamErrors[k] ?? 0) + v;
    for (const [k, v] of Object.entries(s.enrollErrors)) out.enrollErrors[k] = (out.enrollErrors[k] ?? 0) + v;
  }
  return out;
}

function raiseNofile(pid, need, label, notes) {
  const lim = nofileLimit(pid);
  if (!lim || lim.soft >= need) return;
  const target = Math.min(lim.hard, Math.max(need, 65536));
  try {
    execFileSync('prlimit', ['--pid', String(pid), `--nofile=${target}:${lim.hard}`]);
    notes.push(`raised the open-file soft limit of the ${label} from ${lim.soft} to ${target}`);
  } catch (error) {
    notes.push(`the ${label} may run out of file descriptors: soft limit ${lim.soft}, needs ~${need}, raising failed (${error.message.split('\n')[0]})`);
  }
}

// ============================================================================ agents API

async function listAgents(api) {
  return api.call('GET', '/api/v1/agents', undefined, { timeoutMs: 60_000 });
}

async function waitAllOnline(api, expected, timeoutMs) {
  const t = performance.now();
  let last = { online: 0, total: 0 };
  let lastLog = 0;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !state.aborted) {
    const agents = await listAgents(api);
    const sims = agents.filter((a) => a.labels?.bench === 'yes');
    last = { online: sims.filter((a) => a.status === 'online').length, total: sims.length };
    if (last.online >= expected) return { ...last, seconds: (performance.now() - t) / 1000, complete: true };
    if (performance.now() - lastLog > 10_000) {
      log(`  online ${last.online}/${expected} (registered ${last.total})`);
      lastLog = performance.now();
    }
    await sleep(expected > 2000 ? 3000 : 1000);
  }
  return { ...last, seconds: (performance.now() - t) / 1000, complete: false };
}

// ============================================================================ measurement

async function steadyWindow({ controller, workers, windowS, pgPids }) {
  const cpid = controller.pid;
  const wpids = workers.map((w) => w.pid);
  const before = await listAgents(controller.api);
  const seenBefore = new Map(before.map((a) => [a.name, a.lastSeenAt]));
  await sleep(2000); // let the listing's own cost pass before the window opens

  const db0 = await pgDbStats();
  const s0 = sumStats(await allStats(workers));
  const c0 = cpuSeconds(cpid);
  const w0 = sumCpu(wpids);
  const self0 = process.cpuUsage();
  const p0 = cpuSnapshot(pgPids);
  const m0 = machineJiffies();
  const hr0 = process.hrtime.bigint();
  const t0 = performance.now();
  const slices = [];
  const rssSamples = [];
  let prevC = c0;
  let prevT = t0;
  while (performance.now() - t0 < windowS * 1000 - 1) {
    if (state.aborted) throw new Error('aborted');
    await sleep(Math.min(5000, windowS * 1000 - (performance.now() - t0)));
    const c = cpuSeconds(cpid);
    const now = performance.now();
    if (c !== null && prevC !== null) slices.push(((c - prevC) / ((now - prevT) / 1000)) * 100);
    const m = memOf(cpid);
    if (m) rssSamples.push(m.rss);
    prevC = c;
    prevT = now;
  }
  const seconds = (performance.now() - t0) / 1000;
  const hr1 = process.hrtime.bigint();
  const c1 = cpuSeconds(cpid);
  const w1 = sumCpu(wpids);
  const self1 = process.cpuUsage(self0);
  const p1 = cpuSnapshot([...new Set([...pgPids, ...(await pgBackendPids())])]);
  const m1 = machineJiffies();
  const s1 = sumStats(await allStats(workers));
  const mem = memOf(cpid);
  const db1 = await pgDbStats();

  const after = await listAgents(controller.api);
  let advanced = 0;
  let sims = 0;
  for (const a of after) {
    if (a.labels?.bench !== 'yes') continue;
    sims++;
    const b = seenBefore.get(a.name);
    if (a.lastSeenAt && (!b || Date.parse(a.lastSeenAt) > Date.parse(b))) advanced++;
  }
  return {
    seconds,
    hrStart: hr0,
    hrEnd: hr1,
    controllerCpuPct: c0 !== null && c1 !== null ? ((c1 - c0) / seconds) * 100 : NaN,
    controllerCpuMaxSlicePct: slices.length ? Math.max(...slices) : NaN,
    controllerRss: mem?.rss ?? NaN,
    controllerRssMax: rssSamples.length ? Math.max(...rssSamples, mem?.rss ?? 0) : mem?.rss ?? NaN,
    controllerThreads: mem?.threads ?? NaN,
    controllerFds: fdCount(cpid),
    simCpuPct: ((w1 - w0) / seconds) * 100,
    pgCpuPct: (cpuBetween(p0, p1) / seconds) * 100,
    pgBackends: p1.size,
    machineBusyPct: ((m1.busy - m0.busy) / (m1.total - m0.total)) * os.availableParallelism() * 100,
    benchParentCpuPct: ((self1.user + self1.system) / 1e6 / seconds) * 100,
    heartbeatsSent: s1.heartbeatsSent - s0.heartbeatsSent,
    heartbeatsPerSecond: (s1.heartbeatsSent - s0.heartbeatsSent) / seconds,
    reconnectsInWindow: s1.reconnects - s0.reconnects,
    connectedAtEnd: s1.connected,
    lastSeenAdvanced: advanced,
    simAgentsListed: sims,
    onlineAtEnd: after.filter((a) => a.labels?.bench === 'yes' && a.status === 'online').length,
    simRss: s1.rssBytes,
    pgDb: pgDbDelta(db0, db1),
  };
}

/** Transaction and row counters of the bench database (pg_stat_database; flushed by PostgreSQL about once a second). */
async function pgDbStats() {
  try {
    const res = await pgQuery(
      'SELECT xact_commit + xact_rollback AS xacts, tup_returned + tup_fetched AS read, tup_inserted AS inserted, tup_updated AS updated FROM pg_stat_database WHERE datname = $1',
      [state.db],
    );
    const r = res.rows[0];
    return r ? { xacts: Number(r.xacts), read: Number(r.read), inserted: Number(r.inserted), updated: Number(r.updated) } : null;
  } catch {
    return null;
  }
}

function pgDbDelta(a, b) {
  if (!a || !b) return null;
  return { xacts: b.xacts - a.xacts, read: b.read - a.read, inserted: b.inserted - a.inserted, updated: b.updated - a.updated };
}

async function pgBackendPids() {
  try {
    const res = await pgQuery('SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [state.db]);
    return res.rows.map((r) => Number(r.pid));
  } catch {
    return [];
  }
}

let repositoryReady = false;

/** Receipts {agent, recv, ack} the simulators hold for these job ids. */
async function collectReceipts(workers, ids) {
  const receipts = new Map();
  for (const r of await Promise.all(workers.map((w) => w.request({ type: 'jobs' })))) {
    for (const [jobId, agent, recv, ack] of r.jobs) if (ids.has(jobId)) receipts.set(jobId, { agent, recv, ack });
  }
  return receipts;
}

/**
 * A few single-agent runs of the policy before the measured burst, one after another, so the
 * burst does not pay for first-use costs (JIT, pool growth, first secret lookup). Their
 * latencies are reported separately.
 */
async function warmUp({ api, workers, policy, agents }) {
  const latencies = [];
  for (const agent of agents) {
    const jobs = await api.call('POST', `/api/v1/policies/${policy}/run`, { agent });
    const created = new Map(jobs.map((j) => [j.id, Date.parse(j.createdAt)]));
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && !state.aborted) {
      await sleep(100);
      const receipts = await collectReceipts(workers, created);
      if (receipts.size === created.size && [...receipts.values()].every((r) => r.ack !== null)) {
        for (const [id, r] of receipts) latencies.push(r.recv - created.get(id));
        break;
      }
    }
  }
  return latencies;
}

async function dispatchBurst({ controller, workers, phaseN, group, expectJobs, timeoutMs, warmupAgents }) {
  const api = controller.api;
  if (!repositoryReady) {
    await api.call('POST', '/api/v1/repositories', { name: 'bench', url: path.join(state.dataDir, 'repo'), password: 'bench-password', initialize: true });
    repositoryReady = true;
  }
  const policy = `bench-${phaseN}`;
  await api.call('PUT', `/api/v1/policies/${policy}`, {
    name: policy,
    selector: { bench: 'yes', group },
    repository: 'bench',
    sources: [{ files: { paths: ['/tmp'] } }],
  });
  const warmup = warmupAgents.length ? await warmUp({ api, workers, policy, agents: warmupAgents }) : [];
  await sleep(1000);
  const cpid = controller.pid;
  const c0 = cpuSeconds(cpid);
  const w0 = sumCpu(workers.map((w) => w.pid));
  const p0 = cpuSnapshot(await pgBackendPids());
  const db0 = await pgDbStats();
  const hrStart = process.hrtime.bigint();
  const tPost = Date.now();
  const jobs = await api.call('POST', `/api/v1/policies/${policy}/run`, {}, { timeoutMs: 300_000 });
  const tResp = Date.now();
  if (!Array.isArray(jobs) || jobs.length === 0) throw new Error(`POST /api/v1/policies/${policy}/run created no jobs (selector bench=yes, group=${group})`);
  const created = new Map(jobs.map((j) => [j.id, Date.parse(j.createdAt)]));

  // Collect receipts from the simulators until every job was received and acknowledged.
  let receipts = new Map();
  const deadline = Date.now() + timeoutMs;
  let allAckedAt = null;
  while (Date.now() < deadline && !state.aborted) {
    await sleep(500);
    receipts = await collectReceipts(workers, created);
    const acked = [...receipts.values()].filter((r) => r.ack !== null).length;
    if (receipts.size === created.size && acked === created.size) {
      allAckedAt = Date.now();
      break;
    }
  }
  const hrEnd = process.hrtime.bigint();
  const c1 = cpuSeconds(cpid);
  const w1 = sumCpu(workers.map((w) => w.pid));
  const p1 = cpuSnapshot(await pgBackendPids());
  const burstSeconds = (Date.now() - tPost) / 1000;
  await sleep(11_000); // idle PostgreSQL backends publish their counters only every 10 s
  const db1 = await pgDbStats();

  // The API's view: every job succeeded?
  let apiJobs = [];
  let allSucceeded = false;
  await waitFor(
    'the burst jobs to be succeeded in the API',
    async () => {
      const listed = await api.call('GET', `/api/v1/jobs?policy=${policy}&limit=${Math.min(1000, created.size)}`, undefined, { timeoutMs: 60_000 });
      const byId = new Map(listed.filter((j) => created.has(j.id)).map((j) => [j.id, j]));
      // The list may be capped below the burst size: fetch the rest one by one.
      const missing = [...created.keys()].filter((id) => !byId.has(id));
      let next = 0;
      await Promise.all(
        Array.from({ length: Math.min(16, missing.length) }, async () => {
          while (next < missing.length) {
            const id = missing[next++];
            const j = await api.call('GET', `/api/v1/jobs/${id}`, undefined, { expect: [200, 404] });
            if (j?.id) byId.set(id, j);
          }
        }),
      );
      apiJobs = [...byId.values()];
      allSucceeded = apiJobs.length === created.size && apiJobs.every((j) => j.status === 'succeeded');
      return allSucceeded;
    },
    { timeoutMs: 30_000, intervalMs: 1000 },
  ).catch((error) => {
    log(`  the API did not show every burst job succeeded: ${error.message.split('\n')[0]}`);
  });
  // When the controller handed each job's run_job to its stream (the time of its
  // `dispatched` transition): splits the latency into the controller's part (insert,
  // commit, writing the burst) and the flush/receive part (HTTP/2, TLS, simulator).
  const dispatchedAt = new Map();
  {
    const ids = [...created.keys()];
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < ids.length) {
          const id = ids[next++];
          const detail = await api.call('GET', `/api/v1/jobs/${id}`, undefined, { expect: [200, 404] }).catch(() => null);
          const t = detail?.transitions?.find((x) => x.status === 'dispatched')?.at;
          if (t) dispatchedAt.set(id, Date.parse(t));
        }
      }),
    );
  }
  const claimLat = [];
  const sendLat = [];
  for (const [id, at] of dispatchedAt) {
    claimLat.push(at - created.get(id));
    const r = receipts.get(id);
    if (r) sendLat.push(r.recv - at);
  }
  claimLat.sort((a, b) => a - b);
  sendLat.sort((a, b) => a - b);
  const statusCounts = {};
  for (const j of apiJobs) statusCounts[j.status] = (statusCounts[j.status] ?? 0) + 1;
  const lastFinished = apiJobs.reduce((m, j) => Math.max(m, j.finishedAt ? Date.parse(j.finishedAt) : 0), 0);
  const firstCreated = Math.min(...created.values());

  const lat = [];
  const fromPost = [];
  const ackLat = [];
  for (const [jobId, r] of receipts) {
    lat.push(r.recv - created.get(jobId));
    fromPost.push(r.recv - tPost);
    if (r.ack !== null) ackLat.push(r.ack - created.get(jobId));
  }
  lat.sort((a, b) => a - b);
  fromPost.sort((a, b) => a - b);
  ackLat.sort((a, b) => a - b);
  const createdSpread = Math.max(...created.values()) - firstCreated;
  return {
    policy,
    jobs: created.size,
    expectJobs,
    received: receipts.size,
    acked: ackLat.length,
    postMs: tResp - tPost,
    createdSpreadMs: createdSpread,
    p50: percentile(lat, 50),
    p90: percentile(lat, 90),
    p99: percentile(lat, 99),
    max: lat.length ? lat[lat.length - 1] : NaN,
    min: lat.length ? lat[0] : NaN,
    fromPostP50: percentile(fromPost, 50),
    fromPostP99: percentile(fromPost, 99),
    ackP50: percentile(ackLat, 50),
    ackP99: percentile(ackLat, 99),
    allAckedAfterMs: allAckedAt ? Math.max(...[...receipts.values()].map((r) => r.ack)) - tPost : NaN,
    allSucceeded,
    allSucceededAfterMs: allSucceeded && lastFinished ? lastFinished - firstCreated : NaN,
    statusCounts,
    claimP50: percentile(claimLat, 50),
    claimP99: percentile(claimLat, 99),
    claimMax: claimLat.length ? claimLat[claimLat.length - 1] : NaN,
    sendP50: percentile(sendLat, 50),
    sendP99: percentile(sendLat, 99),
    dispatchedKnown: dispatchedAt.size,
    simulatorCpuSeconds: w1 - w0,
    controllerCpuSeconds: c1 !== null && c0 !== null ? c1 - c0 : NaN,
    pgCpuSeconds: cpuBetween(p0, p1),
    pgDb: pgDbDelta(db0, db1),
    burstSeconds,
    warmupLatencies: warmup,
    // raw: [ms after createdAt that the agent received it, ms after createdAt it was acked], by receipt
    raw: [...receipts.entries()].map(([id, r]) => [r.recv - created.get(id), r.ack === null ? null : r.ack - created.get(id)]).sort((a, b) => a[0] - b[0]),
    hrStart,
    hrEnd,
  };
}

// ============================================================================ real agent

async function measureRealAgent({ controller, opts, notes }) {
  if (!fs.existsSync(path.join(REPO_ROOT, 'apps', 'agent', 'dist', 'main.js'))) {
    notes.push('real agent: not measured, apps/agent/dist/main.js is missing (agent not built)');
    return { error: 'agent not built' };
  }
  const api = controller.api;
  const dir = path.join(state.dataDir, 'real-agent');
  fs.mkdirSync(dir, { recursive: true });
  const tokenFile = path.join(state.dataDir, 'real-agent.token');
  const tok = await api.call('POST', '/api/v1/tokens', { uses: 1, ttl: '1h', labels: { bench: 'real' } });
  fs.writeFileSync(tokenFile, tok.token + '\n', { mode: 0o600 });
  const logFile = path.join(OUT_DIR, 'real-agent.log');
  const baseArgs = [AGENT_BIN, 'enroll', '--controller', `127.0.0.1:${controller.grpcPort}`, '--data-dir', dir, '--name', 'real-1'];
  const show = (args) => `node ${args.map((a) => (a === tok.token ? '<token>' : path.isAbsolute(a) && a.startsWith(REPO_ROOT) ? path.relative(REPO_ROOT, a) : a)).join(' ')}`;
  const runEnroll = (args) => {
    try {
      const out = execFileSync(process.execPath, args, { cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
      fs.appendFileSync(logFile, `$ ${show(args)}\n${out}\n`);
      return null;
    } catch (error) {
      fs.appendFileSync(logFile, `$ ${show(args)}\n${error.stdout ?? ''}\n${error.stderr ?? ''}\n`);
      return { status: error.status, message: `${(error.stderr || '').trim() || error.message}`.split('\n').slice(-8).join('\n') };
    }
  };
  fs.writeFileSync(logFile, '');
  let enrollArgs = [...baseArgs, '--token-file', tokenFile];
  let failure = runEnroll(enrollArgs);
  if (failure && /unknown option|token-file|required option/i.test(failure.message)) {
    // docs/agent-protocol.md documents --token-file; an agent without it takes --token.
    notes.push(`real agent: \`coffer-agent enroll --token-file\` was refused (${failure.message.split('\n')[0]}); enrolled with --token instead`);
    enrollArgs = [...baseArgs, '--token', tok.token];
    failure = runEnroll(enrollArgs);
  }
  const enrollCmd = show(enrollArgs);
  if (failure) {
    notes.push(`real agent: \`coffer-agent enroll\` failed: ${failure.message.split('\n')[0]}`);
    return { error: `enroll failed: ${failure.message}` };
  }
  const out = fs.openSync(logFile, 'a');
  const child = spawn(process.execPath, [AGENT_BIN, 'run', '--data-dir', dir], { cwd: REPO_ROOT, stdio: ['ignore', out, out], env: { ...process.env } });
  fs.closeSync(out);
  state.realAgent = child;
  let exited = null;
  child.once('exit', (code, signal) => (exited = { code, signal }));
  const t = performance.now();
  try {
    await waitFor(
      'the real agent to be online',
      async () => {
        if (exited) throw Object.assign(new Error(`agent exited (code ${exited.code})`), { fatal: true });
        const a = await api.call('GET', '/api/v1/agents/real-1', undefined, { expect: [200, 404] });
        return a?.status === 'online' ? a : null;
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
  } catch (error) {
    notes.push(`real agent: never came online (${error.message}); log: bench/.data/fleet/real-agent.log`);
    await killChild(child, 'SIGTERM', 5000);
    return { error: `not online: ${exited ? `exited with code ${exited.code}: ` : ''}${tailOf(logFile, 8)}` };
  }
  const onlineAfter = (performance.now() - t) / 1000;
  log(`real agent online after ${onlineAfter.toFixed(1)} s; idling ${opts.idle} s`);
  const samples = [];
  const idleStart = performance.now();
  const c0 = cpuSeconds(child.pid);
  while (performance.now() - idleStart < opts.idle * 1000) {
    await sleep(1000);
    const m = memOf(child.pid);
    if (m) samples.push(m.rss);
  }
  const c1 = cpuSeconds(child.pid);
  const mem = memOf(child.pid);
  const kids = descendants(child.pid);
  const kidsRss = kids.reduce((s, pid) => s + (memOf(pid)?.rss ?? 0), 0);
  const view = await api.call('GET', '/api/v1/agents/real-1', undefined, { expect: [200, 404] }).catch(() => null);
  await killChild(child, 'SIGTERM', 5000);
  state.realAgent = null;
  return {
    rss: mem?.rss ?? NaN,
    hwm: mem?.hwm ?? NaN,
    rssMax: samples.length ? Math.max(...samples) : NaN,
    children: kids.length,
    childrenRss: kidsRss,
    idleCpuPct: c0 !== null && c1 !== null ? ((c1 - c0) / ((performance.now() - idleStart) / 1000)) * 100 : NaN,
    onlineAfter,
    reportedRss: view?.health?.agentRssBytes ?? null,
    status: view?.status ?? null,
    enrollCmd,
  };
}

// ============================================================================ CPU profile

const profileCache = { file: null, prof: null };

/** Summarises the controller's .cpuprofile, limited to the given hrtime windows (all of it when none). */
function summarizeProfile(profDir, windows) {
  const files = fs.existsSync(profDir) ? fs.readdirSync(profDir).filter((f) => f.endsWith('.cpuprofile')) : [];
  if (files.length === 0) return { error: `no .cpuprofile in ${profDir} (the controller must exit normally on SIGTERM to write it)` };
  // The largest profile is the main thread.
  const file = files.map((f) => path.join(profDir, f)).sort((a, b) => fs.statSync(b).size - fs.statSync(a).size)[0];
  if (profileCache.file !== file) Object.assign(profileCache, { file, prof: JSON.parse(fs.readFileSync(file, 'utf8')) });
  const prof = profileCache.prof;
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfUs = new Map();
  const totalUs = new Map();
  const fileUs = new Map();
  let t = prof.startTime; // µs, CLOCK_MONOTONIC like process.hrtime
  let inWindowUs = 0;
  let idleUs = 0;
  const ranges = windows.map((w) => [Number(w.hrStart / 1000n), Number(w.hrEnd / 1000n)]);
  const label = (n) => {
    const cf = n.callFrame;
    const url = cf.url ? cf.url.replace(/^file:\/\//, '').replace(REPO_ROOT + '/', '') : '';
    return `${cf.functionName || '(anonymous)'} ${url ? `${url}:${cf.lineNumber + 1}` : ''}`.trim();
  };
  for (let i = 0; i < prof.samples.length; i++) {
    t += prof.timeDeltas[i];
    const dt = prof.timeDeltas[i + 1] ?? 0;
    if (ranges.length && !ranges.some(([a, b]) => t >= a && t <= b)) continue;
    const node = byId.get(prof.samples[i]);
    const fn = node.callFrame.functionName;
    if (fn === '(idle)' || fn === '(program)' || fn === '(garbage collector)') {
      if (fn === '(idle)') idleUs += dt;
    }
    inWindowUs += dt;
    const key = label(node);
    selfUs.set(key, (selfUs.get(key) ?? 0) + dt);
    const url = node.callFrame.url || `(${fn})`;
    const pkgKey = url.replace(/^file:\/\//, '').replace(REPO_ROOT + '/', '').replace(/^(.*node_modules\/(@[^/]+\/)?[^/]+).*$/, '$1').replace(/^(apps\/[^/]+\/dist\/[^/]+).*$/, '$1');
    fileUs.set(pkgKey, (fileUs.get(pkgKey) ?? 0) + dt);
    // inclusive time, counted once per function per stack
    const seen = new Set();
    for (let id = node.id; id !== undefined; id = parent.get(id)) {
      const k = label(byId.get(id));
      if (seen.has(k)) continue;
      seen.add(k);
      totalUs.set(k, (totalUs.get(k) ?? 0) + dt);
    }
  }
  if (inWindowUs === 0 && ranges.length) {
    // The profile's clock did not line up with ours: summarise the whole run instead.
    const whole = summarizeProfile(profDir, []);
    return { ...whole, note: 'no samples fell inside the windows (clock mismatch); this is the whole run' };
  }
  const busy = inWindowUs - idleUs;
  const top = (m, n) =>
    [...m.entries()]
      .filter(([k]) => !/^\(?\((idle|root)\)/.test(k))
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, us]) => ({ fn: k, ms: us / 1000, pctOfBusy: busy > 0 ? (us / busy) * 100 : 0 }));
  return { file: path.relative(REPO_ROOT, file), windowMs: inWindowUs / 1000, busyMs: busy / 1000, topSelf: top(selfUs, 25), topTotal: top(totalUs, 25), byFile: top(fileUs, 15) };
}

// ============================================================================ report

function machineFacts() {
  let cpu = 'unknown';
  try {
    cpu = /^model name\s*:\s*(.+)$/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'))?.[1].trim() ?? cpu;
  } catch {
    /* not Linux */
  }
  let pg = 'unknown';
  try {
    pg = execFileSync('psql', ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    /* no psql */
  }
  return {
    cpu,
    nproc: os.availableParallelism(),
    ramGiB: (os.totalmem() / 1024 ** 3).toFixed(1),
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    grpcJs: require('@grpc/grpc-js/package.json').version,
    pg,
    loadAvg: os.loadavg().map((l) => l.toFixed(2)).join(' '),
    nofile: nofileLimit(),
    date: new Date().toISOString(),
  };
}

function mdTable(header, rows) {
  return [`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

function buildTargets(result) {
  const rows = [];
  const biggest = result.phases[result.phases.length - 1];
  if (biggest?.steady) {
    const v = biggest.steady.controllerCpuPct;
    const full = biggest.n >= 5000;
    rows.push([`controller CPU at steady state, ${fmtInt(biggest.n)} agents${full ? '' : ' (target is for 5,000)'}`, `< ${TARGETS.controllerCpuPct}% of one core`, `${fmt(v)}%`, full ? (v < TARGETS.controllerCpuPct ? 'PASS' : 'MISS') : v < TARGETS.controllerCpuPct ? 'pass (smaller fleet)' : 'MISS']);
  } else {
    rows.push(['controller CPU at steady state, 5,000 agents', `< ${TARGETS.controllerCpuPct}% of one core`, 'not measured', 'n/a']);
  }
  for (const ph of result.phases) {
    if (!ph.burst) {
      rows.push([`dispatch p99, burst at ${fmtInt(ph.n)} agents`, `< ${TARGETS.dispatchP99Ms} ms`, ph.burstError ? `failed: ${ph.burstError.slice(0, 80)}` : 'not measured', 'n/a']);
      continue;
    }
    const b = ph.burst;
    const complete = b.received === b.jobs;
    const sizeNote = b.jobs === 1000 ? '1,000 jobs' : `${fmtInt(b.jobs)} jobs`;
    const cold = ph.bursts && ph.bursts.length > 1 ? `; first burst after start: ${fmtMs(ph.bursts[0].p99)}` : '';
    rows.push([
      `dispatch p99, ${sizeNote} at ${fmtInt(ph.n)} agents${ph.bursts && ph.bursts.length > 1 ? ` (burst ${ph.bursts.length} of ${ph.bursts.length}${cold})` : ''}`,
      `< ${TARGETS.dispatchP99Ms} ms`,
      `${fmtMs(b.p99)}${complete ? '' : ` (${b.received}/${b.jobs} received)`}`,
      complete && b.p99 < TARGETS.dispatchP99Ms ? 'PASS' : 'MISS',
    ]);
  }
  if (result.realAgent && !result.realAgent.error) {
    const r = result.realAgent.rss;
    rows.push(['real agent idle RSS', `< ${TARGETS.agentIdleRssMiB} MiB`, fmtMiB(r), r / MiB < TARGETS.agentIdleRssMiB ? 'PASS' : 'MISS']);
  } else {
    rows.push(['real agent idle RSS', `< ${TARGETS.agentIdleRssMiB} MiB`, result.realAgent ? `not measured: ${String(result.realAgent.error).split('\n')[0].slice(0, 100)}` : 'skipped', 'n/a']);
  }
  return rows;
}

function renderSection(result) {
  const m = result.machine;
  const lines = [];
  lines.push('## Fleet benchmark: simulated agents against one controller');
  lines.push('');
  lines.push(`Generated by \`bench/fleet-bench.mjs\` on ${m.date}. Re-run with the command below; this section is replaced in place.`);
  lines.push('');
  lines.push('**Command:**');
  lines.push('');
  lines.push('```sh');
  lines.push(result.command);
  lines.push('```');
  lines.push('');
  lines.push('**Machine:**');
  lines.push('');
  lines.push(`- CPU: ${m.cpu}, nproc ${m.nproc}; RAM ${m.ramGiB} GiB; ${m.kernel}`);
  lines.push(`- node ${m.node}; @grpc/grpc-js ${m.grpcJs}; ${m.pg} (the machine's server, fresh database per run)`);
  lines.push(`- open-file limit (soft/hard): ${m.nofile ? `${m.nofile.soft}/${m.nofile.hard}` : 'unknown'}; load average when the run started: ${m.loadAvg}`);
  lines.push(`- everything on one machine: controller, PostgreSQL, ${result.options.procs} simulator processes (the CPU columns show how the ${m.nproc} cores were shared)`);
  lines.push('');
  lines.push('**Setup:** one controller (`--http-port 0 --grpc-port 0`, `COFFER_HEARTBEAT_INTERVAL=' + result.options.heartbeat + '`), fleet grown on the same controller: ' +
    result.options.agents.map(fmtInt).join(' → ') +
    ' agents (the later phase enrolls only the difference). Every simulated agent has its own ECDSA P-256 key and certificate (its own Enroll), its own grpc-js channel with its own mutual-TLS credentials and one Connect stream; heartbeats at the interval from `welcome`, first one at a random phase. ' +
    `Steady state = every agent online in the API, then ${result.options.settle} s settle, then a ${result.options.window} s window. CPU = utime+stime from /proc/PID/stat over the window (100% = one core). ` +
    'Dispatch latency = time the simulated agent received `run_job` − the job\'s `createdAt` (same clock); the burst is one `POST /api/v1/policies/NAME/run` whose selector matches that many connected agents, after ' + result.options.warmup + ' single-agent warm-up runs of the same policy; the simulators timestamp every readable `run_job` first and then answer `job_accepted` + `job_finished(SUCCEEDED)`' + (result.options.jobMs ? ` ${result.options.jobMs} ms later` : ' at once') + '; the split is at the job\'s `dispatched` transition, which records when the controller handed `run_job` to the agent\'s stream (before 2026-12-08 it carried the insert time, so its first part read 0 ms). ' +
    'The simulators share the 2 cores with the controller and PostgreSQL (see the CPU rows), so latencies include their queueing; real agents run on their own hosts.');
  lines.push('');
  lines.push('**Results:**');
  lines.push('');
  const header = ['', ...result.phases.map((p) => `${fmtInt(p.n)} agents`)];
  const row = (name, f) => [name, ...result.phases.map((p) => {
    try {
      return f(p) ?? 'n/a';
    } catch {
      return 'n/a';
    }
  })];
  const rows = [
    row('enrolled in this phase (rate)', (p) => `${fmtInt(p.enroll.ok)} in ${fmt(p.enroll.seconds)} s (${fmt(p.enroll.ok / p.enroll.seconds)}/s)${p.enroll.failed ? `, ${p.enroll.failed} failed` : ''}`),
    row('enrollment CPU: controller / simulators / PostgreSQL', (p) => `${fmt(p.enroll.cpu.controllerPct)}% / ${fmt(p.enroll.cpu.simulatorsPct)}% / ${fmt(p.enroll.cpu.pgPct)}%`),
    row('enrollment: PostgreSQL transactions per agent', (p) => (p.enroll.pgDb ? fmt(p.enroll.pgDb.xacts / p.enroll.ok) : 'n/a')),
    row('streams opened (rate) → all online in API', (p) => `${fmt(p.connect.seconds)} s (${fmt(p.connect.ok / p.connect.seconds)}/s) → ${fmt(p.online.seconds)} s more${p.online.complete ? '' : ` (only ${p.online.online} online)`}`),
    row('stream opening CPU: controller / simulators / PostgreSQL', (p) => `${fmt(p.connect.cpu.controllerPct)}% / ${fmt(p.connect.cpu.simulatorsPct)}% / ${fmt(p.connect.cpu.pgPct)}%`),
    row('opening streams: PostgreSQL transactions per agent (approx.)', (p) => (p.connect.pgDb ? fmt(p.connect.pgDb.xacts / p.connect.ok) : 'n/a')),
    row('controller CPU, steady state (max 5 s slice)', (p) => `**${fmt(p.steady.controllerCpuPct)}%** (${fmt(p.steady.controllerCpuMaxSlicePct)}%)`),
    row('controller RSS at end of window (max)', (p) => `${fmtMiB(p.steady.controllerRss)} (${fmtMiB(p.steady.controllerRssMax)})`),
    row('controller threads / open fds', (p) => `${p.steady.controllerThreads} / ${fmtInt(p.steady.controllerFds)}`),
    row('PostgreSQL backends of the bench DB: CPU', (p) => `${fmt(p.steady.pgCpuPct)}% (${p.steady.pgBackends} backends)`),
    row('PostgreSQL transactions/s in the window (rows updated/s)', (p) => (p.steady.pgDb ? `${fmt(p.steady.pgDb.xacts / p.steady.seconds)} (${fmt(p.steady.pgDb.updated / p.steady.seconds)})` : 'n/a')),
    row('simulators: CPU / RSS (all processes)', (p) => `${fmt(p.steady.simCpuPct)}% / ${fmtMiB(p.steady.simRss)} (${fmt(p.steady.simRss / p.n / 1024, 0)} KiB per agent)`),
    row('machine busy (100% = one core) / of it not this benchmark', (p) => {
      const st = p.steady;
      const others = st.machineBusyPct - st.controllerCpuPct - st.pgCpuPct - st.simCpuPct - st.benchParentCpuPct;
      return `${fmt(st.machineBusyPct)}% of ${m.nproc * 100}% / ${fmt(Math.max(0, others))}%`;
    }),
    row('heartbeats sent/s in the window (expected)', (p) => `**${fmt(p.steady.heartbeatsPerSecond)}** (${fmt(p.n / p.heartbeatSeconds)})`),
    row('agents whose lastSeenAt advanced in the window', (p) => `${fmtInt(p.steady.lastSeenAdvanced)} of ${fmtInt(p.steady.simAgentsListed)}`),
    row('online at end / reconnects in window', (p) => `${fmtInt(p.steady.onlineAtEnd)} / ${p.steady.reconnectsInWindow}`),
    row('burst: jobs created (POST duration, last burst)', (p) => `${fmtInt(p.burst.jobs)} (${fmtMs(p.burst.postMs)}; createdAt spread ${fmtMs(p.burst.createdSpreadMs)})`),
    row('warm-up: single-job dispatch latencies before the burst', (p) => (p.bursts?.[0]?.warmupLatencies?.length ? p.bursts[0].warmupLatencies.map(fmtMs).join(', ') : 'none')),
    ...(result.options.bursts > 1
      ? [row('first burst after start (cold): dispatch p50 / p99 / max (POST duration)', (p) => `${fmtMs(p.bursts[0].p50)} / ${fmtMs(p.bursts[0].p99)} / ${fmtMs(p.bursts[0].max)} (${fmtMs(p.bursts[0].postMs)})`)]
      : []),
    row(`dispatch latency p50 / p90 / p99 / max${result.options.bursts > 1 ? ` (burst ${result.options.bursts} of ${result.options.bursts})` : ''}`, (p) => `**${fmtMs(p.burst.p50)} / ${fmtMs(p.burst.p90)} / ${fmtMs(p.burst.p99)}** / ${fmtMs(p.burst.max)}`),
    row('… createdAt → `run_job` handed to the stream (`dispatched` transition) p50 / p99 / max', (p) => `${fmtMs(p.burst.claimP50)} / ${fmtMs(p.burst.claimP99)} / ${fmtMs(p.burst.claimMax)}`),
    row('… handed to the stream → received (HTTP/2, TLS, simulator) p50 / p99', (p) => `${fmtMs(p.burst.sendP50)} / ${fmtMs(p.burst.sendP99)}`),
    row('received by agents', (p) => `${fmtInt(p.burst.received)} of ${fmtInt(p.burst.jobs)}`),
    row('job_finished_ack after createdAt p50 / p99', (p) => `${fmtMs(p.burst.ackP50)} / ${fmtMs(p.burst.ackP99)}`),
    row('every result recorded (last job_finished_ack) after POST', (p) => `${fmtMs(p.burst.allAckedAfterMs)}; API: ${p.burst.allSucceeded ? 'all succeeded' : `not all succeeded: ${JSON.stringify(p.burst.statusCounts)}`}`),
    row('burst: PostgreSQL transactions per job (rows read per job)', (p) => (p.burst.pgDb ? `${fmt(p.burst.pgDb.xacts / p.burst.jobs)} (${fmt(p.burst.pgDb.read / p.burst.jobs, 0)})` : 'n/a')),
    row('CPU for the burst: controller / PostgreSQL / simulators', (p) => `${fmt(p.burst.controllerCpuSeconds, 2)} s / ${fmt(p.burst.pgCpuSeconds, 2)} s / ${fmt(p.burst.simulatorCpuSeconds, 2)} s over ${fmt(p.burst.burstSeconds, 1)} s`),
  ];
  lines.push(mdTable(header, rows));
  lines.push('');
  if (result.realAgent) {
    const r = result.realAgent;
    lines.push(`**Real agent** (\`apps/agent\`${r.enrollCmd ? `, enrolled with \`${r.enrollCmd.replace(/ --controller \S+/, ' --controller 127.0.0.1:PORT').replace(/ --data-dir \S+/, ' --data-dir DIR').replace(/ --token-file \S+/, ' --token-file FILE')}\`` : ''}, then \`coffer-agent run\`; VmRSS read after ${result.options.idle} s online and idle, before the simulated fleet starts):`);
    lines.push('');
    if (r.error) lines.push(`- not measured: ${String(r.error).split('\n').join(' ').slice(0, 400)}`);
    else {
      lines.push(`- VmRSS **${fmtMiB(r.rss)}** (max during idle ${fmtMiB(r.rssMax)}, VmHWM ${fmtMiB(r.hwm)}); child processes: ${r.children}${r.children ? ` (${fmtMiB(r.childrenRss)})` : ''}`);
      lines.push(`- idle CPU ${fmt(r.idleCpuPct, 2)}% of one core; online ${fmt(r.onlineAfter)} s after start; RSS it reports in its heartbeat: ${r.reportedRss ? fmtMiB(r.reportedRss) : 'n/a'}`);
    }
    lines.push('');
  }
  lines.push('**Targets:**');
  lines.push('');
  lines.push(mdTable(['target', 'threshold', 'measured', 'result'], buildTargets(result)));
  lines.push('');
  for (const { label, summary: p } of result.profiles ?? []) {
    lines.push(`**Controller CPU profile, ${label} (\`--cpu-prof\`):**`);
    lines.push('');
    if (p.error) lines.push(`- ${p.error}`);
    else {
      lines.push(`${fmt(p.busyMs / 1000, 1)} s busy of ${fmt(p.windowMs / 1000, 1)} s sampled${p.note ? ` (${p.note})` : ''}. Top self time:`);
      lines.push('');
      lines.push(mdTable(['function', 'self ms', '% of busy'], p.topSelf.slice(0, 12).map((t) => [`\`${t.fn}\``, fmt(t.ms, 0), fmt(t.pctOfBusy)])));
      lines.push('');
      lines.push('By package / file:');
      lines.push('');
      lines.push(mdTable(['where', 'self ms', '% of busy'], p.byFile.slice(0, 10).map((t) => [`\`${t.fn}\``, fmt(t.ms, 0), fmt(t.pctOfBusy)])));
    }
    lines.push('');
  }
  if (result.notes.length) {
    lines.push('**Notes:**');
    lines.push('');
    for (const n of result.notes) lines.push(`- ${n}`);
    lines.push('');
  }
  lines.push('Raw numbers of the last run: `bench/.data/fleet/last-results.json` (git-ignored), logs next to it.');
  return lines.join('\n');
}


function printConsole(result) {
  const section = renderSection(result);
  // The markdown is readable as is; strip the bold markers for the terminal.
  console.log('\n' + section.replace(/\*\*/g, '') + '\n');
}

// ============================================================================ main

// Machine-wide: two fleet benchmarks on one machine would measure each other.
const LOCK_FILE = path.join(os.tmpdir(), 'coffer-fleet-bench.lock');

/** Other processes that look like a fleet benchmark (a copy of this one elsewhere, say). */
function foreignBenchProcesses() {
  const ours = new Set([process.pid, ...state.workers.map((w) => w.pid)]);
  // ancestors (npm run, sh -c) are ours too
  for (let pid = process.ppid; pid > 1; ) {
    ours.add(pid);
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      pid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    } catch {
      break;
    }
  }
  const found = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || ours.has(Number(entry))) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ');
      if (/fleet-sim-worker|fleet-bench\.mjs/.test(cmd)) found.push(`${entry}: ${cmd.trim().slice(0, 120)}`);
    } catch {
      /* gone */
    }
  }
  return found;
}

/** Two fleet benchmarks at once would share 2 cores and each other's log files: refuse. */
function takeLock() {
  try {
    fs.writeFileSync(LOCK_FILE, String(process.pid), { flag: 'wx' });
  } catch (error) {
    if (error.code !== 'EEXIST') throw error;
    const other = Number(fs.readFileSync(LOCK_FILE, 'utf8').trim());
    let alive = false;
    try {
      alive = other > 0 && fs.readFileSync(`/proc/${other}/cmdline`, 'utf8').includes('fleet-bench');
    } catch {
      /* gone */
    }
    if (alive) throw new Error(`another fleet benchmark is running (pid ${other}, lock ${LOCK_FILE}); two at once would measure each other`);
    fs.writeFileSync(LOCK_FILE, String(process.pid));
  }
  process.on('exit', () => {
    try {
      if (fs.readFileSync(LOCK_FILE, 'utf8').trim() === String(process.pid)) fs.rmSync(LOCK_FILE);
    } catch {
      /* already gone */
    }
  });
}

async function main() {
  const opts = parseOptions();
  state.keep = opts.keep;
  fs.mkdirSync(OUT_DIR, { recursive: true });
  takeLock();
  const notes = [];
  const argv = process.argv.slice(2);
  const result = {
    command: `npm run bench:fleet${argv.length ? ' -- ' + argv.join(' ') : ''}`,
    options: { ...opts, out: path.relative(REPO_ROOT, opts.out) },
    machine: machineFacts(),
    phases: [],
    realAgent: null,
    profiles: null,
    notes,
  };
  const maxN = opts.agents[opts.agents.length - 1];
  log(`fleet sizes ${opts.agents.join(' → ')}, ${opts.procs} simulator processes, window ${opts.window} s; nproc ${result.machine.nproc}, RAM ${result.machine.ramGiB} GiB, ${process.version}`);

  // ---- controller
  const controller = await startController(opts);
  log(`controller pid ${controller.pid} at ${controller.httpUrl}, gRPC port ${controller.grpcPort}; log bench/.data/fleet/controller.log`);
  raiseNofile(controller.pid, maxN + 1000, 'controller', notes);
  const heartbeatSeconds = Number(opts.heartbeat.replace(/[sm]$/, '')) * (opts.heartbeat.endsWith('m') ? 60 : 1);

  // ---- join token for the fleet (one use per simulated agent)
  const joinToken = await controller.api.call('POST', '/api/v1/tokens', { uses: maxN, ttl: '1h', labels: { bench: 'yes' } });
  const trust = await fetchTrust(controller.grpcPort, joinToken.token);
  log(`CA from ${trust.caSource}; server certificate SANs: ${trust.leafSans || '(none)'}; TLS name used: ${trust.serverName ?? '127.0.0.1'}`);

  // ---- real agent idle RSS (on a quiet machine, before the fleet)
  if (opts.realAgent) {
    log('real agent: enroll + run');
    try {
      result.realAgent = await measureRealAgent({ controller, opts, notes });
    } catch (error) {
      result.realAgent = { error: error.message };
      notes.push(`real agent: ${error.message.split('\n')[0]}`);
    }
    if (result.realAgent.error) log(`real agent: ${result.realAgent.error.split('\n')[0]}`);
    else log(`real agent idle VmRSS ${fmtMiB(result.realAgent.rss)}`);
  }

  // ---- simulators
  const workerLog = path.join(OUT_DIR, 'simulators.log');
  fs.writeFileSync(workerLog, '');
  state.workers = Array.from({ length: opts.procs }, (_, i) => new Worker(i, workerLog));
  const agentVersion = require('@coffer/agent/package.json').version;
  await Promise.all(
    state.workers.map((w) =>
      w.request({ type: 'init', target: `127.0.0.1:${controller.grpcPort}`, caPem: trust.caPem, serverName: trust.serverName, token: joinToken.token, agentVersion, keepaliveMs: 60_000, jobMs: opts.jobMs }),
    ),
  );
  for (const w of state.workers) raiseNofile(w.pid, Math.ceil(maxN / opts.procs) + 500, `simulator ${w.index}`, notes);

  let enrolledTotal = 0;
  for (const n of opts.agents) {
    if (state.aborted) break;
    const phase = { n, heartbeatSeconds };
    result.phases.push(phase);
    log(`=== phase ${fmtInt(n)} agents: enrolling ${fmtInt(n - enrolledTotal)}`);
    // Agents are dealt round-robin; label group=g<i / burst> picks the burst's agents.
    const perWorker = state.workers.map(() => []);
    for (let i = enrolledTotal; i < n; i++) {
      perWorker[i % opts.procs].push({ name: `sim-${String(i).padStart(5, '0')}`, labels: { group: `g${Math.floor(i / opts.burst)}` } });
    }
    const perWorkerConcurrency = Math.max(1, Math.ceil(opts.enrollConcurrency / opts.procs));
    const te = performance.now();
    const hrEnroll = process.hrtime.bigint();
    const cpuEnroll0 = await cpuTriple(controller.pid, state.workers);
    const dbEnroll0 = await pgDbStats();
    const enrollReplies = await Promise.all(state.workers.map((w, k) => w.request({ type: 'enroll', agents: perWorker[k], concurrency: perWorkerConcurrency })));
    phase.enroll = { ok: 0, failed: 0, errors: {}, seconds: (performance.now() - te) / 1000, hrStart: hrEnroll, hrEnd: process.hrtime.bigint() };
    phase.enroll.cpu = cpuTripleDelta(cpuEnroll0, await cpuTriple(controller.pid, state.workers));
    const dbEnroll1 = await pgDbStats();
    for (const r of enrollReplies) {
      phase.enroll.ok += r.ok;
      phase.enroll.failed += r.failed;
      for (const [k, v] of Object.entries(r.errors)) phase.enroll.errors[k] = (phase.enroll.errors[k] ?? 0) + v;
    }
    log(`enrolled ${phase.enroll.ok} in ${fmt(phase.enroll.seconds)} s (${fmt(phase.enroll.ok / phase.enroll.seconds)}/s; CPU controller ${fmt(phase.enroll.cpu.controllerPct)}%, simulators ${fmt(phase.enroll.cpu.simulatorsPct)}%, PG ${fmt(phase.enroll.cpu.pgPct)}%)${phase.enroll.failed ? `; ${phase.enroll.failed} failed: ${JSON.stringify(phase.enroll.errors)}` : ''}`);
    if (phase.enroll.ok === 0) throw new Error(`no agent could enroll: ${JSON.stringify(phase.enroll.errors)}`);
    if (phase.enroll.failed) notes.push(`${fmtInt(n)}-agent phase: ${phase.enroll.failed} enrollments failed: ${JSON.stringify(phase.enroll.errors).slice(0, 300)}`);
    enrolledTotal = n;
    const expected = result.phases.reduce((sum, p) => sum + p.enroll.ok, 0);

    const tc = performance.now();
    const hrConnect = process.hrtime.bigint();
    const cpuConnect0 = await cpuTriple(controller.pid, state.workers);
    const dbConnect0 = dbEnroll1;
    const connectReplies = await Promise.all(state.workers.map((w) => w.request({ type: 'connect', concurrency: 50, welcomeTimeoutMs: 30_000 })));
    phase.connect = {
      ok: connectReplies.reduce((s, r) => s + r.ok, 0),
      failed: connectReplies.reduce((s, r) => s + r.failed, 0),
      seconds: (performance.now() - tc) / 1000,
      hrStart: hrConnect,
      hrEnd: process.hrtime.bigint(),
    };
    phase.connect.cpu = cpuTripleDelta(cpuConnect0, await cpuTriple(controller.pid, state.workers));
    // Counters lag up to 10 s (idle backends): split enrollment/connect by the later reading.
    phase.online = await waitAllOnline(controller.api, expected, 60_000 + expected * 20);
    await sleep(Math.max(0, 11_000 - phase.online.seconds * 1000));
    const dbConnect1 = await pgDbStats();
    phase.enroll.pgDb = pgDbDelta(dbEnroll0, dbEnroll1);
    phase.connect.pgDb = pgDbDelta(dbConnect0, dbConnect1);
    log(`streams: ${phase.connect.ok} welcomed, ${phase.connect.failed} not (yet) in ${fmt(phase.connect.seconds)} s (CPU controller ${fmt(phase.connect.cpu.controllerPct)}%, simulators ${fmt(phase.connect.cpu.simulatorsPct)}%, PG ${fmt(phase.connect.cpu.pgPct)}%)`);
    log(`online in API: ${phase.online.online}/${expected}${phase.online.complete ? '' : ' (timed out; measuring anyway)'}`);
    if (!phase.online.complete) notes.push(`${fmtInt(n)}-agent phase: only ${phase.online.online} of ${expected} agents were online in the API when measuring started`);

    const foreign = foreignBenchProcesses();
    if (foreign.length) {
      log(`WARNING: another fleet benchmark is running on this machine; numbers will be disturbed:\n  ${foreign.join('\n  ')}`);
      notes.push(`${fmtInt(n)}-agent phase: another fleet benchmark was running on the machine at the same time (${foreign.length} processes); its numbers are disturbed`);
    }
    log(`settling ${opts.settle} s`);
    await sleep(opts.settle * 1000);
    const pgPids = await pgBackendPids();
    log(`steady-state window ${opts.window} s`);
    phase.steady = await steadyWindow({ controller, workers: state.workers, windowS: opts.window, pgPids });
    const s = phase.steady;
    log(`controller CPU ${fmt(s.controllerCpuPct)}% (max slice ${fmt(s.controllerCpuMaxSlicePct)}%), RSS ${fmtMiB(s.controllerRss)}; PG ${fmt(s.pgCpuPct)}%; sims ${fmt(s.simCpuPct)}%; machine ${fmt(s.machineBusyPct)}%; heartbeats ${fmt(s.heartbeatsPerSecond)}/s; lastSeen advanced ${s.lastSeenAdvanced}/${s.simAgentsListed}`);

    const group = `g${n >= opts.burst ? Math.floor(n / opts.burst) - 1 : 0}`;
    const expectJobs = Math.min(opts.burst, n);
    log(`dispatch burst: policy bench-${n}, selector group=${group} (${expectJobs} agents)`);
    try {
      const g = Number(group.slice(1));
      const warmupAgents = [];
      for (let i = g * opts.burst; i < Math.min(n, (g + 1) * opts.burst) && warmupAgents.length < opts.warmup; i += 97) warmupAgents.push(`sim-${String(i).padStart(5, '0')}`);
      phase.bursts = [];
      for (let k = 1; k <= opts.bursts; k++) {
        const b = await dispatchBurst({ controller, workers: state.workers, phaseN: n, group, expectJobs, timeoutMs: 120_000, warmupAgents: k === 1 ? warmupAgents : [] });
        phase.bursts.push(b);
        phase.burst = b;
        log(`burst ${k}/${opts.bursts}: ${b.jobs} jobs (POST ${b.postMs} ms), received ${b.received}, acked ${b.acked}; latency p50 ${fmtMs(b.p50)} p99 ${fmtMs(b.p99)} max ${fmtMs(b.max)}; last ack ${fmtMs(b.allAckedAfterMs)} after POST; API ${b.allSucceeded ? 'all succeeded' : JSON.stringify(b.statusCounts)}`);
        if (b.jobs !== expectJobs) notes.push(`${fmtInt(n)}-agent phase: burst ${k} created ${b.jobs} jobs, expected ${expectJobs}`);
      }
    } catch (error) {
      phase.burstError = error.message;
      notes.push(`${fmtInt(n)}-agent phase: the dispatch burst failed: ${error.message.split('\n')[0].slice(0, 300)}`);
      log(`burst failed: ${error.message}`);
    }
    const st = sumStats(await allStats(state.workers));
    phase.simulators = st;
    if (Object.keys(st.streamErrors).length) log(`stream errors so far: ${JSON.stringify(st.streamErrors).slice(0, 500)}`);
  }

  // ---- stop everything (the controller writes its CPU profile on exit)
  const finalStats = state.workers.length ? sumStats(await allStats(state.workers).catch(() => [])) : null;
  result.simulatorTotals = finalStats;
  if (finalStats && Object.keys(finalStats.streamErrors).length) notes.push(`stream errors seen by the simulators over the run: ${JSON.stringify(finalStats.streamErrors).slice(0, 400)}`);
  if (finalStats && finalStats.duplicateRunJobs) notes.push(`simulators got ${finalStats.duplicateRunJobs} repeated run_job messages`);
  log('stopping simulators and controller');
  await cleanup();
  if (opts.cpuProf) {
    result.profiles = [
      { label: 'steady-state windows', summary: summarizeProfile(controller.profDir, result.phases.filter((p) => p.steady).map((p) => p.steady)) },
      { label: 'dispatch bursts (POST → every job acknowledged)', summary: summarizeProfile(controller.profDir, result.phases.flatMap((p) => p.bursts ?? [])) },
      { label: 'enrollment', summary: summarizeProfile(controller.profDir, result.phases.filter((p) => p.enroll).map((p) => p.enroll)) },
      { label: 'opening the streams (TLS handshake → welcome)', summary: summarizeProfile(controller.profDir, result.phases.filter((p) => p.connect).map((p) => p.connect)) },
    ];
    for (const { label, summary } of result.profiles) {
      if (summary.error) {
        console.log(`profile (${label}): ${summary.error}`);
        continue;
      }
      console.log(`\nController CPU profile, ${label}: ${fmt(summary.busyMs / 1000)} s busy of ${fmt(summary.windowMs / 1000)} s${summary.note ? ` (${summary.note})` : ''}\ntop self time`);
      for (const t of summary.topSelf.slice(0, 25)) console.log(`  ${fmt(t.ms, 0).padStart(7)} ms ${fmt(t.pctOfBusy).padStart(5)}%  ${t.fn}`);
      console.log('top inclusive time');
      for (const t of summary.topTotal.slice(0, 25)) console.log(`  ${fmt(t.ms, 0).padStart(7)} ms ${fmt(t.pctOfBusy).padStart(5)}%  ${t.fn}`);
      console.log('by package/file');
      for (const t of summary.byFile) console.log(`  ${fmt(t.ms, 0).padStart(7)} ms ${fmt(t.pctOfBusy).padStart(5)}%  ${t.fn}`);
    }
  }

  const bigint = (_k, v) => (typeof v === 'bigint' ? v.toString() : v);
  fs.writeFileSync(path.join(OUT_DIR, 'last-results.json'), JSON.stringify(result, bigint, 2));
  printConsole(result);
  if (opts.write) {
    writeMarkedSection(opts.out, MARK_START, MARK_END, renderSection(result));
    log(`wrote the fleet section of ${path.relative(REPO_ROOT, opts.out)}`);
  }
}

main().then(
  () => process.exit(0),
  async (error) => {
    if (error instanceof UsageError) {
      console.error(`fleet-bench: ${error.message}\n\n${USAGE}`);
      process.exit(2);
    }
    if (!state.aborted) console.error(`[fleet] failed: ${error.stack ?? error}`);
    await cleanup();
    process.exit(1);
  },
);
