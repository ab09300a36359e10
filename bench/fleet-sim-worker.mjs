// Simulated agents for bench/fleet-bench.mjs: one child process (forked with IPC) holding
// a share of the fleet. Every simulated agent is a real agent as far as the controller can
// tell: its own ECDSA P-256 key and CSR, its own Enroll call, its own grpc-js channel with
// its own mutual-TLS credentials and one Connect stream (hello → welcome → heartbeats every
// welcome.heartbeatIntervalSeconds, first one at a random phase; run_job → job_accepted +
// job_finished(SUCCEEDED) kept until job_finished_ack, re-sent after a reconnect).
//
// It is kept light on purpose (no per-message logging, one shared health template) so the
// machine's CPU goes to the controller. It reports counters over IPC when asked.
//
// Parent → worker messages (process.send):
//   {type:'init', target, caPem, serverName, token, agentVersion, keepaliveMs, jobMs}
//   {type:'enroll', id, agents:[{name, labels}], concurrency}      → {type:'reply', id, ...}
//   {type:'connect', id, concurrency, welcomeTimeoutMs}              → {type:'reply', id, ...}
//   {type:'stats', id}                                               → {type:'reply', id, stats}
//   {type:'jobs', id}                                                → {type:'reply', id, jobs:[[jobId, agent, recvMs, ackMs]]}
//   {type:'shutdown', id}                                            → closes everything, exits
// Unsolicited: {type:'fatal', message}.

import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { webcrypto } from 'node:crypto';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(REPO_ROOT, 'package.json'));
const contracts = require('@coffer/contracts');
// The same grpc-js instance @coffer/contracts loads the service definition with.
const grpc = createRequire(require.resolve('@coffer/contracts'))('@grpc/grpc-js');
require('reflect-metadata'); // @peculiar/x509 (tsyringe) needs the Reflect polyfill
const x509 = require('@peculiar/x509');
x509.cryptoProvider.set(webcrypto);

const pkg = contracts.loadAgentGatewayPackage();
const AgentGateway = pkg.coffer.agent.v1.AgentGateway;

/** @type {{target:string, caPem:string, serverName:string|null, token:string, agentVersion:string, keepaliveMs:number, jobMs:number}} */
let cfg;
/** @type {Map<string, Agent>} */
const agents = new Map();
let enrollClient = null;
let shuttingDown = false;

const counters = {
  enrolled: 0,
  enrollFailed: 0,
  enrollErrors: {},
  streamsOpened: 0,
  welcomes: 0,
  heartbeatsSent: 0,
  streamEnds: 0,
  streamErrors: {},
  reconnects: 0,
  welcomeTimeouts: 0,
  pingsAnswered: 0,
  runJobs: 0,
  duplicateRunJobs: 0,
  finishedSent: 0,
  acks: 0,
  cancels: 0,
  unknownMessages: 0,
  writeBackpressure: 0,
};

const bump = (map, key) => {
  const k = String(key).slice(0, 200);
  map[k] = (map[k] ?? 0) + 1;
};

// ------------------------------------------------------------------ health template

const startedAt = Date.now();
const baseHealth = {
  hostname: '',
  os: `${os.platform()} ${os.release()}`,
  arch: os.arch(),
  agentVersion: '',
  hostUptimeSeconds: 0,
  agentUptimeSeconds: 0,
  loadAverage: [0, 0, 0],
  memoryTotalBytes: os.totalmem(),
  memoryAvailableBytes: os.freemem(),
  agentRssBytes: 40 * 1024 * 1024,
  disks: [
    { path: '/var/lib/coffer-agent', role: 'data_dir', freeBytes: 50e9, totalBytes: 100e9 },
    { path: '/srv', role: 'source', freeBytes: 50e9, totalBytes: 100e9 },
  ],
  tools: [
    { name: 'pg_dump', version: '15.8', path: '/usr/bin/pg_dump' },
    { name: 'mariadb-dump', version: '', path: '' },
    { name: 'mysqldump', version: '', path: '' },
    { name: 'redis-cli', version: '7.0.15', path: '/usr/bin/redis-cli' },
  ],
};
// Host facts are refreshed once every 5 s for the whole process, not per heartbeat.
let hostUptime = os.uptime();
let loadAvg = os.loadavg();
setInterval(() => {
  hostUptime = os.uptime();
  loadAvg = os.loadavg();
  baseHealth.memoryAvailableBytes = os.freemem();
}, 5000).unref();

function healthFor(agent) {
  // A small per-agent object that shares the arrays of the template.
  return {
    ...baseHealth,
    hostname: agent.name,
    agentVersion: cfg.agentVersion,
    hostUptimeSeconds: hostUptime,
    agentUptimeSeconds: (Date.now() - startedAt) / 1000,
    loadAverage: loadAvg,
  };
}

const CAPABILITIES = {
  jobKinds: ['JOB_KIND_BACKUP', 'JOB_KIND_RESTORE', 'JOB_KIND_FORGET', 'JOB_KIND_PRUNE', 'JOB_KIND_CHECK'],
  sourceKinds: ['files', 'command'],
};

// ------------------------------------------------------------------ helpers

function toPem(der, label) {
  const b64 = Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n').trimEnd();
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

function channelOptions() {
  const options = {
    // One transport per agent, as with real agents on separate hosts.
    'grpc.use_local_subchannel_pool': 1,
    'grpc.enable_channelz': 0,
    'grpc.enable_retries': 0,
    // Heartbeats keep the stream busy every 10 s; the HTTP/2 keepalive only guards
    // against half-dead connections.
    'grpc.keepalive_time_ms': cfg.keepaliveMs,
    'grpc.keepalive_timeout_ms': 20_000,
    'grpc.keepalive_permit_without_calls': 1, // as apps/agent does
    'grpc.initial_reconnect_backoff_ms': 1000,
    'grpc.max_reconnect_backoff_ms': 30_000,
  };
  if (cfg.serverName) {
    options['grpc.ssl_target_name_override'] = cfg.serverName;
    options['grpc.default_authority'] = cfg.serverName;
  }
  return options;
}

/** Runs `fn` over `items` with at most `limit` in flight. */
async function pool(items, limit, fn) {
  let next = 0;
  const runners = [];
  for (let i = 0; i < Math.min(limit, items.length); i++) {
    runners.push(
      (async () => {
        while (next < items.length) {
          const item = items[next++];
          await fn(item);
        }
      })(),
    );
  }
  await Promise.all(runners);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ------------------------------------------------------------------ enrollment

async function enrollOne({ name, labels }) {
  const keys = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: `CN=${name}`,
    keys,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
  });
  const keyPem = toPem(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey), 'PRIVATE KEY');
  const request = {
    token: cfg.token,
    csrPem: csr.toString('pem'),
    name,
    labels,
    hostname: name,
    agentVersion: cfg.agentVersion,
  };
  const response = await new Promise((resolve, reject) => {
    enrollClient.Enroll(request, { deadline: Date.now() + 120_000 }, (err, res) => (err ? reject(err) : resolve(res)));
  });
  if (!response?.certificatePem) throw new Error('Enroll answered without a certificate');
  const agent = new Agent(name, response.agentId, keyPem, response.certificatePem, response.caCertificatePem || cfg.caPem);
  agents.set(name, agent);
}

async function enroll(list, concurrency) {
  if (!enrollClient) enrollClient = new AgentGateway(cfg.target, grpc.credentials.createSsl(Buffer.from(cfg.caPem)), channelOptions());
  const t0 = performance.now();
  let ok = 0;
  let failed = 0;
  const errors = {};
  await pool(list, concurrency, async (item) => {
    for (let attempt = 1; ; attempt++) {
      try {
        await enrollOne(item);
        ok++;
        counters.enrolled++;
        return;
      } catch (error) {
        const transient = error?.code === grpc.status.UNAVAILABLE || error?.code === grpc.status.DEADLINE_EXCEEDED;
        if (transient && attempt < 4 && !shuttingDown) {
          await sleep(500 * attempt);
          continue;
        }
        failed++;
        counters.enrollFailed++;
        const key = `${grpc.status[error?.code] ?? 'ERROR'}: ${error?.details ?? error?.message ?? error}`;
        bump(errors, key);
        bump(counters.enrollErrors, key);
        return;
      }
    }
  });
  return { ok, failed, errors, seconds: (performance.now() - t0) / 1000 };
}

// ------------------------------------------------------------------ the agent

let replyQueue = [];
/** Runs `fn` after the I/O callbacks of this event-loop turn (setImmediate), in order. */
function deferReply(fn) {
  replyQueue.push(fn);
  if (replyQueue.length === 1) {
    setImmediate(() => {
      const queue = replyQueue;
      replyQueue = [];
      for (const f of queue) f();
    });
  }
}

class Agent {
  constructor(name, id, keyPem, certPem, caPem) {
    this.name = name;
    this.id = id;
    this.credentials = grpc.credentials.createSsl(Buffer.from(caPem), Buffer.from(keyPem), Buffer.from(certPem));
    this.client = null;
    this.call = null;
    this.connected = false; // welcome received on the current stream
    this.everConnected = false;
    this.intervalMs = 10_000;
    this.hbTimer = null;
    this.reconnectTimer = null;
    this.backoffMs = 1000;
    this.stopped = false;
    this.welcomeWaiters = [];
    /** jobId → {recv, ack, finished (message)} */
    this.jobs = new Map();
  }

  ensureClient() {
    if (!this.client) this.client = new AgentGateway(cfg.target, this.credentials, channelOptions());
  }

  /** Opens a stream; resolves on welcome (true) or on failure/timeout (false). */
  open(welcomeTimeoutMs) {
    if (this.stopped || shuttingDown) return Promise.resolve(false);
    this.ensureClient();
    const call = this.client.Connect();
    this.call = call;
    this.connected = false;
    counters.streamsOpened++;
    let settled = false;
    let resolveWelcome;
    const welcomed = new Promise((r) => (resolveWelcome = r));
    const settle = (v) => {
      if (!settled) {
        settled = true;
        clearTimeout(timer);
        resolveWelcome(v);
      }
    };
    const timer = setTimeout(() => {
      if (!settled) {
        counters.welcomeTimeouts++;
        settle(false);
        call.cancel();
      }
    }, welcomeTimeoutMs);

    call.on('data', (msg) => {
      if (call !== this.call) return;
      this.onMessage(msg, settle);
    });
    const ended = (reason) => {
      if (call !== this.call) return;
      this.call = null;
      this.connected = false;
      if (this.hbTimer) {
        clearTimeout(this.hbTimer);
        clearInterval(this.hbTimer);
        this.hbTimer = null;
      }
      settle(false);
      if (reason === 'PERMISSION_DENIED') {
        this.stopped = true;
        return;
      }
      this.scheduleReconnect();
    };
    call.on('error', (err) => {
      bump(counters.streamErrors, `${grpc.status[err.code] ?? err.code}: ${err.details ?? err.message}`);
      ended(grpc.status[err.code]);
    });
    call.on('end', () => {
      counters.streamEnds++;
      ended('end');
    });
    call.on('status', () => {});
    call.write({
      hello: {
        agentVersion: cfg.agentVersion,
        capabilities: CAPABILITIES,
        runningJobIds: [],
        health: healthFor(this),
      },
    });
    return welcomed;
  }

  scheduleReconnect() {
    if (this.stopped || shuttingDown || this.reconnectTimer) return;
    counters.reconnects++;
    const delay = Math.random() * this.backoffMs; // full jitter
    this.backoffMs = Math.min(this.backoffMs * 2, 30_000);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (this.call) {
        this.call.cancel();
        this.call = null;
      }
      this.open(30_000);
    }, delay);
  }

  send(msg) {
    if (!this.call) return false;
    if (!this.call.write(msg)) counters.writeBackpressure++;
    return true;
  }

  onMessage(msg, settle) {
    const kind = msg.body ?? Object.keys(msg).find((k) => msg[k] && k !== 'body');
    switch (kind) {
      case 'welcome': {
        counters.welcomes++;
        this.connected = true;
        this.everConnected = true;
        this.backoffMs = 1000;
        const secs = Number(msg.welcome.heartbeatIntervalSeconds) || 10;
        this.intervalMs = secs * 1000;
        this.startHeartbeats();
        // Results the controller has not acknowledged yet, as a real agent re-sends them.
        for (const job of this.jobs.values()) {
          if (job.ack === null && job.finished) this.send({ jobFinished: job.finished });
        }
        settle(true);
        break;
      }
      case 'runJob':
        this.onRunJob(msg.runJob);
        break;
      case 'jobFinishedAck': {
        const job = this.jobs.get(msg.jobFinishedAck.jobId);
        if (job && job.ack === null) {
          job.ack = Date.now();
          job.finished = null;
          counters.acks++;
        }
        break;
      }
      case 'ping':
        counters.pingsAnswered++;
        this.send({ pong: { nonce: msg.ping.nonce } });
        break;
      case 'cancelJob':
        counters.cancels++;
        break;
      default:
        counters.unknownMessages++;
    }
  }

  onRunJob(run) {
    const now = Date.now();
    const known = this.jobs.get(run.jobId);
    if (known) {
      counters.duplicateRunJobs++;
      // Already finished: answer from the "ledger" (or a bare ack-less re-send if forgotten).
      if (known.finished) this.send({ jobFinished: known.finished });
      else if (known.ack === null) this.send({ jobAccepted: { jobId: run.jobId, startedAtUnixMs: known.recv } });
      return;
    }
    counters.runJobs++;
    const finished = {
      jobId: run.jobId,
      outcome: 'JOB_OUTCOME_SUCCEEDED',
      errorMessage: '',
      log: [],
      startedAtUnixMs: now,
      finishedAtUnixMs: now,
      snapshots: [],
      forgottenSnapshotIds: [],
      restoredFiles: 0,
      restoredBytes: 0,
    };
    const job = { recv: now, ack: null, finished: null };
    this.jobs.set(run.jobId, job);
    const finish = () => {
      finished.finishedAtUnixMs = Date.now();
      job.finished = finished;
      this.send({ jobFinished: finished });
      counters.finishedSent++;
    };
    // The answers wait until every message already readable in this process has been
    // timestamped: a thousand agents share a few processes here, unlike real hosts, and
    // replying inline would delay the receive time of the next agent's RunJob.
    deferReply(() => {
      this.send({ jobAccepted: { jobId: run.jobId, startedAtUnixMs: now } });
      if (cfg.jobMs > 0) setTimeout(finish, cfg.jobMs);
      else finish();
    });
  }

  startHeartbeats() {
    if (this.hbTimer) {
      clearTimeout(this.hbTimer);
      clearInterval(this.hbTimer);
    }
    const beat = () => {
      if (!this.connected) return;
      if (this.send({ heartbeat: { health: healthFor(this), runningJobIds: [] } })) counters.heartbeatsSent++;
    };
    // Random phase so the fleet's heartbeats spread evenly over the interval.
    this.hbTimer = setTimeout(() => {
      beat();
      this.hbTimer = setInterval(beat, this.intervalMs);
    }, Math.random() * this.intervalMs);
  }

  close() {
    this.stopped = true;
    if (this.hbTimer) {
      clearTimeout(this.hbTimer);
      clearInterval(this.hbTimer);
    }
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    if (this.call) {
      try {
        this.call.end();
        this.call.cancel();
      } catch {
        /* already gone */
      }
    }
    if (this.client) this.client.close();
  }
}

async function connectAll(concurrency, welcomeTimeoutMs) {
  const t0 = performance.now();
  const todo = [...agents.values()].filter((a) => !a.everConnected && !a.call && !a.stopped);
  let ok = 0;
  let failed = 0;
  await pool(todo, concurrency, async (agent) => {
    const welcomed = await agent.open(welcomeTimeoutMs);
    if (welcomed) ok++;
    else failed++; // it keeps retrying in the background
  });
  return { attempted: todo.length, ok, failed, seconds: (performance.now() - t0) / 1000 };
}

function stats() {
  let connected = 0;
  for (const a of agents.values()) if (a.connected) connected++;
  const mem = process.memoryUsage();
  return {
    pid: process.pid,
    agents: agents.size,
    connected,
    ...counters,
    rssBytes: mem.rss,
    heapUsedBytes: mem.heapUsed,
    cpu: process.cpuUsage(),
  };
}

function jobList() {
  const out = [];
  for (const a of agents.values()) {
    for (const [jobId, j] of a.jobs) out.push([jobId, a.name, j.recv, j.ack]);
  }
  return out;
}

async function shutdown() {
  shuttingDown = true;
  for (const a of agents.values()) a.close();
  if (enrollClient) enrollClient.close();
}

// ------------------------------------------------------------------ IPC

process.on('message', async (msg) => {
  const reply = (body) => process.send?.({ type: 'reply', id: msg.id, ...body });
  try {
    switch (msg.type) {
      case 'init':
        cfg = msg;
        reply({ ok: true, pid: process.pid });
        break;
      case 'enroll':
        reply(await enroll(msg.agents, msg.concurrency ?? 8));
        break;
      case 'connect':
        reply(await connectAll(msg.concurrency ?? 32, msg.welcomeTimeoutMs ?? 30_000));
        break;
      case 'stats':
        reply({ stats: stats() });
        break;
      case 'jobs':
        reply({ jobs: jobList() });
        break;
      case 'shutdown':
        await shutdown();
        reply({ ok: true });
        setTimeout(() => process.exit(0), 200).unref();
        break;
      default:
        reply({ error: `unknown message type ${msg.type}` });
    }
  } catch (error) {
    reply({ error: error?.stack ?? String(error) });
  }
});

process.on('disconnect', () => {
  // The parent went away (Ctrl-C, crash): do not linger holding thousands of streams.
  shutdown().finally(() => process.exit(0));
});
process.on('uncaughtException', (error) => {
  console.error(error);
  try {
    process.send?.({ type: 'fatal', message: error?.stack ?? String(error) }, () => process.exit(1));
  } catch {
    /* no channel */
  }
  setTimeout(() => process.exit(1), 1000).unref();
});
