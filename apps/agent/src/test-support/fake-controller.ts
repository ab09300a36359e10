import { randomBytes, randomUUID, X509Certificate } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { agentV1, formatJoinToken, loadAgentGatewayPackage } from '@coffer/contracts';
import { IssuedCertificate, TestCa } from './test-pki';

type ServerStream = grpc.ServerDuplexStream<agentV1.AgentMessage__Output, agentV1.ControllerMessage>;

/** An agent the fake controller enrolled. */
export interface FakeAgent {
  agentId: string;
  name: string;
  labels: Record<string, string>;
  revoked: boolean;
}

/** A message an agent sent, with who sent it and when. */
export interface ReceivedMessage {
  agentId: string;
  at: number;
  message: agentV1.AgentMessage__Output;
}

/** Settings of the fake controller. */
export interface FakeControllerOptions {
  heartbeatIntervalSeconds?: number;
  /** Ack every JobFinished at once (default true). */
  autoAck?: boolean;
  /** Present this CA instead of the one that signs (for "wrong CA" tests). */
  ca?: TestCa;
}

/**
 * A static identity and CA for grpc-js's certificate-provider credentials. Listeners are
 * called on the next turn, as grpc-js's own file watcher does: the server registers its
 * watcher only after adding the listener, and would miss a synchronous update.
 */
function staticProvider(ca: Buffer | null, identity: { certificate: Buffer; privateKey: Buffer } | null): grpc.experimental.CertificateProvider {
  return {
    addCaCertificateListener: (listener) => setImmediate(() => listener(ca ? { caCertificate: ca } : null)),
    removeCaCertificateListener: () => undefined,
    addIdentityCertificateListener: (listener) => setImmediate(() => listener(identity)),
    removeIdentityCertificateListener: () => undefined,
  };
}

/**
 * A small controller for integration tests: its own CA, a TLS server on 127.0.0.1 that
 * presents "server cert + CA cert" as the real one does, Enroll with single-use join tokens,
 * and Connect with client certificates checked in the handler (one port serves both, so a
 * client certificate is requested but not required by TLS). Records what agents send and
 * lets the test send anything down a stream.
 */
export class FakeController {
  readonly tokens = new Map<string, { labels: Record<string, string>; used: boolean }>();
  readonly enrollCalls: agentV1.EnrollRequest__Output[] = [];
  readonly agents = new Map<string, FakeAgent>();
  readonly received: ReceivedMessage[] = [];
  readonly streams = new Map<string, ServerStream>();
  autoAck: boolean;
  heartbeatIntervalSeconds: number;
  port = 0;
  private server?: grpc.Server;

  private constructor(
    readonly ca: TestCa,
    private readonly serverCert: IssuedCertificate,
    options: FakeControllerOptions,
  ) {
    this.autoAck = options.autoAck ?? true;
    this.heartbeatIntervalSeconds = options.heartbeatIntervalSeconds ?? 1;
  }

  static async create(options: FakeControllerOptions = {}): Promise<FakeController> {
    const ca = options.ca ?? (await TestCa.create());
    return new FakeController(ca, await ca.issueServer(), options);
  }

  get running(): boolean {
    return this.server !== undefined;
  }

  /** HOST:PORT for --controller. */
  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Listens on `port` (0: any; the same one again after stop() to "come back"). */
  async start(port = this.port): Promise<void> {
    const server = new grpc.Server();
    const pkg = loadAgentGatewayPackage();
    server.addService(pkg.coffer.agent.v1.AgentGateway.service, {
      Enroll: (call: grpc.ServerUnaryCall<agentV1.EnrollRequest__Output, agentV1.EnrollResponse>, callback: grpc.sendUnaryData<agentV1.EnrollResponse>) =>
        void this.enroll(call.request).then(
          (response) => callback(null, response),
          (err: grpc.ServiceError) => callback(err),
        ),
      Connect: (call: ServerStream) => this.connect(call),
    } satisfies agentV1.AgentGatewayHandlers);
    const chain = Buffer.from(`${this.serverCert.certPem.trim()}\n${this.ca.pem.trim()}\n`); // server cert, then its CA
    // One provider serves the identity and the CA: grpc-js 1.14 passes the two provider
    // arguments to its constructor in swapped order, so giving both roles to both keeps this
    // right whichever way round it ends up. The CA is used to request client certificates.
    const provider = staticProvider(Buffer.from(this.ca.pem), { certificate: chain, privateKey: Buffer.from(this.serverCert.keyPem) });
    const credentials = grpc.experimental.createCertificateProviderServerCredentials(provider, provider, false);
    this.port = await new Promise<number>((resolve, reject) => server.bindAsync(`127.0.0.1:${port}`, credentials, (err, bound) => (err ? reject(err) : resolve(bound))));
    // Let the providers' deferred updates land: until then the server drops connections.
    for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
    this.server = server;
  }

  /** Goes away at once, as a crashed controller would (streams break, no goodbye). */
  async stop(): Promise<void> {
    for (const stream of this.streams.values()) if (!stream.cancelled) stream.destroy();
    this.streams.clear();
    this.server?.forceShutdown();
    this.server = undefined;
  }

  /** A fresh single-use join token for this controller. */
  createToken(labels: Record<string, string> = {}): string {
    const id = randomBytes(8).toString('hex');
    const secret = randomBytes(32).toString('base64url');
    this.tokens.set(id, { labels, used: false });
    return formatJoinToken({ id, secret, caFingerprint: this.ca.fingerprint });
  }

  revoke(agentId: string): void {
    const agent = this.agents.get(agentId);
    if (agent) agent.revoked = true;
    this.streams.get(agentId)?.emit('error', { code: grpc.status.PERMISSION_DENIED, details: 'this agent has been revoked' });
  }

  /** Sends a message down an agent's stream; false when it has none. */
  send(agentId: string, message: agentV1.ControllerMessage): boolean {
    const stream = this.streams.get(agentId);
    if (!stream) return false;
    stream.write(message);
    return true;
  }

  /** Messages of one kind received so far. */
  messages<K extends NonNullable<agentV1.AgentMessage__Output['body']>>(kind: K): Array<NonNullable<agentV1.AgentMessage__Output[K]> & { at: number; agentId: string }> {
    return this.received.filter((r) => r.message.body === kind).map((r) => ({ ...(r.message[kind] as object), at: r.at, agentId: r.agentId })) as never;
  }

  private async enroll(request: agentV1.EnrollRequest__Output): Promise<agentV1.EnrollResponse> {
    this.enrollCalls.push(request);
    const id = request.token.split('.')[1];
    const token = this.tokens.get(id);
    if (!token) throw { code: grpc.status.UNAUTHENTICATED, details: 'join token is unknown' };
    if (token.used) throw { code: grpc.status.UNAUTHENTICATED, details: 'join token has already been used' };
    const name = request.name || request.hostname;
    if ([...this.agents.values()].some((a) => a.name === name && !a.revoked)) throw { code: grpc.status.ALREADY_EXISTS, details: `an agent named "${name}" already exists` };
    token.used = true;
    const agentId = randomUUID();
    const labels = { ...request.labels, ...token.labels };
    this.agents.set(agentId, { agentId, name, labels, revoked: false });
    return { agentId, name, certificatePem: await this.ca.issueClient(request.csrPem, agentId), caCertificatePem: this.ca.pem, labels };
  }

  private connect(call: ServerStream): void {
    const agent = this.authenticate(call);
    if (!agent) return void call.emit('error', { code: grpc.status.UNAUTHENTICATED, details: 'no client certificate issued by this controller' });
    if (agent.revoked) return void call.emit('error', { code: grpc.status.PERMISSION_DENIED, details: 'this agent has been revoked' });
    call.on('data', (message: agentV1.AgentMessage__Output) => {
      this.received.push({ agentId: agent.agentId, at: Date.now(), message });
      if (message.body === 'hello') {
        this.streams.set(agent.agentId, call);
        call.write({ welcome: { heartbeatIntervalSeconds: this.heartbeatIntervalSeconds, agentId: agent.agentId, name: agent.name, labels: agent.labels } });
      } else if (message.body === 'jobFinished' && this.autoAck) {
        call.write({ jobFinishedAck: { jobId: message.jobFinished!.jobId } });
      }
    });
    call.on('error', () => undefined);
    call.on('end', () => {
      if (this.streams.get(agent.agentId) === call) this.streams.delete(agent.agentId);
      call.end();
    });
  }

  private authenticate(call: ServerStream): FakeAgent | undefined {
    const raw = call.getAuthContext()?.sslPeerCertificate?.raw;
    if (!raw) return undefined;
    const cert = new X509Certificate(raw);
    if (!cert.verify(new X509Certificate(this.ca.pem).publicKey)) return undefined;
    const cn = /CN=([^\n,]+)/.exec(cert.subject)?.[1];
    return cn ? this.agents.get(cn) : undefined;
  }
}

/** Waits until `probe` returns something other than undefined/false, or fails after `timeoutMs`. */
export async function waitFor<T>(probe: () => T | undefined | false, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
