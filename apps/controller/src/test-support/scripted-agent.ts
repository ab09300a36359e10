// @peculiar/x509 uses tsyringe, which needs the Reflect polyfill loaded before it.
import 'reflect-metadata';
import { createHash, webcrypto, X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import * as tls from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import * as x509 from '@peculiar/x509';
import { agentV1, loadAgentGatewayPackage, parseJoinToken } from '@coffer/contracts';

/*
 * A scriptable agent for integration tests: a real grpc-js client that enrolls with a CSR
 * and holds a Connect stream over mutual TLS, driven step by step by the test. It does
 * nothing on its own — no heartbeats, no job execution — so a test decides exactly what
 * the controller sees and when.
 *
 *   const agent = await ScriptedAgent.enroll({ grpcAddress, token, name: 'web-1', labels: { role: 'web' } });
 *   const welcome = await agent.connect();                 // hello → welcome
 *   agent.heartbeat();
 *   const run = await agent.nextRunJob();                  // RunJob (with repository secrets)
 *   agent.accepted(run.jobId);
 *   agent.finished(run.jobId, 'JOB_OUTCOME_SUCCEEDED', { snapshots: [...] });
 *   await agent.nextAck(run.jobId);
 *   const end = await agent.ended();                      // { code, details } once the stream ends
 */

type X509Crypto = NonNullable<Parameters<typeof x509.X509CertificateGenerator.create>[1]>;
x509.cryptoProvider.set(webcrypto as unknown as X509Crypto);

const gateway = loadAgentGatewayPackage().coffer.agent.v1.AgentGateway;
type GatewayClient = InstanceType<typeof gateway>;
type ConnectStream = grpc.ClientDuplexStream<agentV1.AgentMessage, agentV1.ControllerMessage__Output>;

/** What enrollment gave the agent. */
export interface AgentIdentity {
  agentId: string;
  name: string;
  labels: Record<string, string>;
  keyPem: string;
  certificatePem: string;
  caCertificatePem: string;
}

/** How a stream ended. */
export interface StreamEnd {
  code: grpc.status;
  details: string;
}

export interface EnrollOptions {
  /** host:port of the controller's gRPC port. */
  grpcAddress: string;
  token: string;
  name?: string;
  hostname?: string;
  labels?: Record<string, string>;
  agentVersion?: string;
  /** Replace the generated CSR (to test refusals). */
  csrPem?: string;
}

/** A health report as a test agent sends it. */
export function sampleHealth(name: string, overrides: Partial<agentV1.Health> = {}): agentV1.Health {
  return {
    hostname: name,
    os: 'linux 6.1.0-test',
    arch: 'x64',
    agentVersion: '0.1.0-test',
    hostUptimeSeconds: 1234,
    agentUptimeSeconds: 12,
    loadAverage: [0.5, 0.25, 0.125],
    memoryTotalBytes: 8 * 1024 ** 3,
    memoryAvailableBytes: 4 * 1024 ** 3,
    agentRssBytes: 40 * 1024 ** 2,
    disks: [{ path: '/var/lib/coffer-agent', role: 'data_dir', freeBytes: 10 * 1024 ** 3, totalBytes: 20 * 1024 ** 3 }],
    tools: [{ name: 'pg_dump', version: '15.8', path: '/usr/bin/pg_dump' }],
    ...overrides,
  };
}

/** A fresh ECDSA P-256 key and a CSR for it. */
export async function createKeyAndCsr(commonName: string): Promise<{ keyPem: string; csrPem: string }> {
  const keys = (await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])) as Parameters<
    typeof x509.Pkcs10CertificateRequestGenerator.create
  >[0]['keys'];
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: `CN=${commonName}`,
    keys,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
  });
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey as webcrypto.CryptoKey);
  return { keyPem: x509.PemConverter.encode(pkcs8, 'PRIVATE KEY'), csrPem: csr.toString('pem') };
}

/**
 * Reads the certificate chain the gRPC port presents (trusting nothing yet) and returns the
 * CA certificate whose SHA-256 matches the join token's fingerprint, after checking that it
 * signed the server certificate — what an agent does before it sends a token anywhere.
 */
export async function pinCaFromChain(grpcAddress: string, token: string): Promise<string> {
  const parts = parseJoinToken(token);
  if (!parts) throw new Error('not a join token');
  const { host, port } = splitAddress(grpcAddress);
  const chain = await new Promise<tls.DetailedPeerCertificate>((resolve, reject) => {
    const socket = tls.connect({ host, port, rejectUnauthorized: false, ALPNProtocols: ['h2'], servername: isIP(host) ? undefined : host });
    socket.once('secureConnect', () => {
      resolve(socket.getPeerCertificate(true));
      socket.destroy();
    });
    socket.once('error', reject);
  });
  const leaf = new X509Certificate(chain.raw);
  const seen = new Set<string>();
  for (let cert: tls.DetailedPeerCertificate | undefined = chain; cert?.raw && !seen.has(cert.fingerprint256); cert = cert.issuerCertificate) {
    seen.add(cert.fingerprint256);
    if (createHash('sha256').update(cert.raw).digest('base64url') !== parts.caFingerprint) continue;
    const ca = new X509Certificate(cert.raw);
    if (!leaf.checkIssued(ca) || !leaf.verify(ca.publicKey)) throw new Error('the pinned CA did not sign the server certificate');
    return ca.toString();
  }
  throw new Error('the controller did not present the CA named by the join token');
}

/** Enrolls: pins the CA from the token, sends a CSR, returns the identity (rejects with the gRPC error). */
export async function enrollAgent(options: EnrollOptions): Promise<AgentIdentity> {
  const caPem = await pinCaFromChain(options.grpcAddress, options.token);
  const name = options.name ?? '';
  const { keyPem, csrPem } = await createKeyAndCsr(name || 'agent');
  const client = new gateway(options.grpcAddress, grpc.credentials.createSsl(Buffer.from(caPem)), { 'grpc.enable_retries': 0 }) as GatewayClient;
  try {
    const response = await new Promise<agentV1.EnrollResponse__Output>((resolve, reject) =>
      client.Enroll(
        {
          token: options.token,
          csrPem: options.csrPem ?? csrPem,
          name,
          hostname: options.hostname ?? (name || 'test-host'),
          labels: options.labels ?? {},
          agentVersion: options.agentVersion ?? '0.1.0-test',
        },
        { deadline: Date.now() + 30_000 },
        (error, value) => (error ? reject(error) : resolve(value!)),
      ),
    );
    return {
      agentId: response.agentId,
      name: response.name,
      labels: response.labels,
      keyPem,
      certificatePem: response.certificatePem,
      caCertificatePem: response.caCertificatePem,
    };
  } finally {
    client.close();
  }
}

/** Waits for a value, failing with `what` after `timeoutMs`. */
function withTimeout<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
    }),
  ]);
}

interface Waiter {
  match: (message: agentV1.ControllerMessage__Output) => boolean;
  resolve: (message: agentV1.ControllerMessage__Output) => void;
}

/** An enrolled agent a test drives by hand. */
export class ScriptedAgent {
  private client: GatewayClient | undefined;
  private stream: ConnectStream | undefined;
  private inbox: agentV1.ControllerMessage__Output[] = [];
  private waiters: Waiter[] = [];
  private end: Promise<StreamEnd> | undefined;
  /** Every message received on every stream, in order (for assertions like "never sent"). */
  readonly received: agentV1.ControllerMessage__Output[] = [];

  constructor(
    private readonly grpcAddress: string,
    readonly identity: AgentIdentity,
  ) {}

  /** Enrolls a new agent and returns it (not connected yet). */
  static async enroll(options: EnrollOptions): Promise<ScriptedAgent> {
    return new ScriptedAgent(options.grpcAddress, await enrollAgent(options));
  }

  get name(): string {
    return this.identity.name;
  }

  /**
   * Opens a Connect stream over mutual TLS, sends Hello and waits for Welcome. Rejects with
   * the stream's status (e.g. UNAUTHENTICATED, PERMISSION_DENIED) when the controller
   * refuses it. A previous stream of this agent is left as it is (see `disconnect`).
   */
  async connect(options: { runningJobIds?: string[]; health?: agentV1.Health; timeoutMs?: number } = {}): Promise<agentV1.Welcome__Output> {
    this.open();
    this.send({
      hello: {
        agentVersion: '0.1.0-test',
        capabilities: { jobKinds: ['JOB_KIND_BACKUP', 'JOB_KIND_RESTORE', 'JOB_KIND_FORGET', 'JOB_KIND_PRUNE'], sourceKinds: ['files', 'command'] },
        runningJobIds: options.runningJobIds ?? [],
        health: options.health ?? sampleHealth(this.name),
      },
    });
    const end = this.end!;
    const welcome = await withTimeout(
      Promise.race([
        this.next((message) => message.body === 'welcome', options.timeoutMs ?? 15_000),
        end.then((status) => Promise.reject(Object.assign(new Error(`${grpc.status[status.code]}: ${status.details}`), status))),
      ]),
      options.timeoutMs ?? 15_000,
      'welcome',
    );
    return welcome.welcome!;
  }

  /** Opens a stream without sending anything (to test what the controller does with the first message). */
  open(): void {
    if (!this.client) {
      const credentials = grpc.credentials.createSsl(
        Buffer.from(this.identity.caCertificatePem),
        Buffer.from(this.identity.keyPem),
        Buffer.from(this.identity.certificatePem),
      );
      this.client = new gateway(this.grpcAddress, credentials, { 'grpc.enable_retries': 0, 'grpc.use_local_subchannel_pool': 1 }) as GatewayClient;
    }
    const stream = this.client.Connect();
    this.stream = stream;
    this.inbox = [];
    this.end = new Promise<StreamEnd>((resolve) => {
      stream.on('status', (status: grpc.StatusObject) => resolve({ code: status.code, details: status.details }));
    });
    stream.on('error', () => undefined); // the status event carries it
    stream.on('data', (message: agentV1.ControllerMessage__Output) => {
      this.received.push(message);
      const index = this.waiters.findIndex((waiter) => waiter.match(message));
      if (index >= 0) this.waiters.splice(index, 1)[0].resolve(message);
      else this.inbox.push(message);
    });
  }

  /** Sends a raw message on the current stream. */
  send(message: agentV1.AgentMessage): void {
    if (!this.stream) throw new Error('not connected');
    this.stream.write(message);
  }

  heartbeat(options: { health?: agentV1.Health; runningJobIds?: string[] } = {}): void {
    this.send({ heartbeat: { health: options.health ?? sampleHealth(this.name), runningJobIds: options.runningJobIds ?? [] } });
  }

  accepted(jobId: string, startedAt = Date.now()): void {
    this.send({ jobAccepted: { jobId, startedAtUnixMs: startedAt } });
  }

  progress(jobId: string, fields: Partial<agentV1.JobProgress> = {}): void {
    this.send({ jobProgress: { jobId, phase: 'uploading', filesDone: 1, filesTotal: 2, bytesDone: 100, bytesTotal: 200, bytesPerSecond: 50, ...fields } });
  }

  finished(jobId: string, outcome: agentV1.JobOutcome, fields: Partial<agentV1.JobFinished> = {}): void {
    const now = Date.now();
    this.send({ jobFinished: { jobId, outcome, startedAtUnixMs: now - 1000, finishedAtUnixMs: now, log: [], ...fields } });
  }

  /** The next message (received or still to come) that matches; it is taken from the inbox. */
  next(match: (message: agentV1.ControllerMessage__Output) => boolean, timeoutMs = 15_000): Promise<agentV1.ControllerMessage__Output> {
    const index = this.inbox.findIndex(match);
    if (index >= 0) return Promise.resolve(this.inbox.splice(index, 1)[0]);
    const waiter: Waiter = { match, resolve: () => undefined };
    const promise = new Promise<agentV1.ControllerMessage__Output>((resolve) => {
      waiter.resolve = resolve;
    });
    this.waiters.push(waiter);
    return withTimeout(promise, timeoutMs, 'a controller message').catch((error: Error) => {
      this.waiters = this.waiters.filter((candidate) => candidate !== waiter);
      throw error;
    });
  }

  async nextRunJob(timeoutMs = 15_000, jobId?: string): Promise<agentV1.RunJob__Output> {
    const message = await this.next((m) => m.body === 'runJob' && (jobId === undefined || m.runJob?.jobId === jobId), timeoutMs);
    return message.runJob!;
  }

  async nextCancel(timeoutMs = 15_000): Promise<agentV1.CancelJob__Output> {
    return (await this.next((m) => m.body === 'cancelJob', timeoutMs)).cancelJob!;
  }

  async nextAck(jobId: string, timeoutMs = 15_000): Promise<void> {
    await this.next((m) => m.body === 'jobFinishedAck' && m.jobFinishedAck?.jobId === jobId, timeoutMs);
  }

  /** How the current stream ended (waits for it). */
  ended(timeoutMs = 15_000): Promise<StreamEnd> {
    if (!this.end) throw new Error('not connected');
    return withTimeout(this.end, timeoutMs, 'the stream to end');
  }

  /** Drops the current stream (as a crashed network would), keeping the client. */
  disconnect(): void {
    this.stream?.cancel();
    this.stream = undefined;
  }

  /** Closes everything. */
  close(): void {
    this.disconnect();
    this.client?.close();
    this.client = undefined;
  }
}

/**
 * Opens a Connect stream with TLS but WITHOUT a client certificate, sends Hello and
 * returns how the controller ended it.
 */
export async function connectWithoutCertificate(grpcAddress: string, caCertificatePem: string): Promise<StreamEnd> {
  const client = new gateway(grpcAddress, grpc.credentials.createSsl(Buffer.from(caCertificatePem)), { 'grpc.enable_retries': 0 }) as GatewayClient;
  try {
    const stream = client.Connect();
    const end = new Promise<StreamEnd>((resolve) => stream.on('status', (status: grpc.StatusObject) => resolve({ code: status.code, details: status.details })));
    stream.on('error', () => undefined);
    stream.on('data', () => undefined);
    stream.write({ hello: { agentVersion: '0.1.0-test', runningJobIds: [] } });
    return await withTimeout(end, 15_000, 'the refused stream to end');
  } finally {
    client.close();
  }
}

function splitAddress(address: string): { host: string; port: number } {
  const match = /^\[?([^\]]+?)\]?:(\d+)$/.exec(address);
  if (!match) throw new Error(`not host:port: ${address}`);
  return { host: match[1], port: Number(match[2]) };
}
