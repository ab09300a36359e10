import { Injectable, Logger } from '@nestjs/common';
import * as grpc from '@grpc/grpc-js';
import type { agentV1 } from '@coffer/contracts';
import { AppConfig } from '../../config/app-config';
import { AgentLivenessService } from '../agents/agent-liveness.service';
import { AgentCommand, AgentSession, AgentSessions, SessionEnd } from '../agents/agent-sessions';
import { AgentStore } from '../agents/agent.store';
import type { AgentRecord } from '../agents/agent.types';
import { JobDispatcher } from '../jobs/job-dispatcher.service';
import { JobResultsService } from '../jobs/job-results.service';
import { certificateFingerprintHex } from '../pki/certificates';
import { Clock } from '../shared/clock';
import { toAgentHealth, toControllerMessage, toJobFinishedReport, toJobProgressReport } from './proto-mapping';

type ConnectCall = grpc.ServerDuplexStream<agentV1.AgentMessage__Output, agentV1.ControllerMessage>;

/** A stream that has not said Hello by then is closed. */
export const HELLO_TIMEOUT_MS = 30_000;

const END_CODES: Record<SessionEnd['reason'], grpc.status> = {
  revoked: grpc.status.PERMISSION_DENIED,
  replaced: grpc.status.ABORTED,
  shutdown: grpc.status.UNAVAILABLE,
};

/**
 * Serves Connect streams. The agent is identified ONLY by its client certificate (SHA-256
 * of the DER → agents.cert_fingerprint); nothing it says can change who it is.
 *
 * Stream protocol (controller side):
 *  1. no client certificate / unknown certificate → UNAUTHENTICATED; revoked → PERMISSION_DENIED;
 *  2. the first message must be Hello (else INVALID_ARGUMENT), within 30 s;
 *  3. answer Welcome, then re-send RunJob for every job the database gives the agent that
 *     Hello does not list as running, cancel jobs it runs that are already finished here,
 *     and dispatch queued work;
 *  4. then: Heartbeat/Pong → presence (memory); JobAccepted → running; JobProgress →
 *     memory; JobFinished → recorded, then JobFinishedAck. Job messages are handled in
 *     arrival order, one at a time per stream.
 */
@Injectable()
export class AgentStreamHandler {
  private readonly context: StreamContext;

  constructor(
    agents: AgentStore,
    sessions: AgentSessions,
    liveness: AgentLivenessService,
    dispatcher: JobDispatcher,
    results: JobResultsService,
    config: AppConfig,
    clock: Clock,
  ) {
    this.context = { agents, sessions, liveness, dispatcher, results, config, clock, logger: new Logger(AgentStreamHandler.name) };
  }

  /** grpc-js handler for Connect. */
  handle(call: ConnectCall): void {
    const certificate = call.getAuthContext()?.sslPeerCertificate;
    if (!certificate?.raw) {
      endCall(call, grpc.status.UNAUTHENTICATED, 'a client certificate issued by this controller is required: enroll the agent first');
      return;
    }
    new AgentStream(call, certificateFingerprintHex(certificate.raw), this.context).start();
  }
}

/** What a stream works with. */
interface StreamContext {
  agents: AgentStore;
  sessions: AgentSessions;
  liveness: AgentLivenessService;
  dispatcher: JobDispatcher;
  results: JobResultsService;
  config: AppConfig;
  clock: Clock;
  logger: Logger;
}

/** One Connect stream, from authentication to its end. */
class AgentStream implements AgentSession {
  agentId = '';
  agentName = '';
  connectedAt: Date;
  private agent: AgentRecord | undefined;
  private state: 'authenticating' | 'awaiting_hello' | 'open' | 'closed' = 'authenticating';
  /** Job messages (and everything before the session is open) run one after another. */
  private queue: Promise<void> = Promise.resolve();
  private helloTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly call: ConnectCall,
    private readonly fingerprint: string,
    private readonly deps: StreamContext,
  ) {
    this.connectedAt = deps.clock.now();
  }

  start(): void {
    this.call.on('data', (message: agentV1.AgentMessage__Output) => this.receive(message));
    // The agent half-closed: finish our side normally.
    this.call.on('end', () => this.end(grpc.status.OK, 'the agent closed the stream'));
    this.call.on('error', () => this.finish());
    this.call.on('cancelled', () => this.finish());
    this.call.on('close', () => this.finish());
    this.helloTimer = setTimeout(() => {
      if (this.state === 'authenticating' || this.state === 'awaiting_hello') {
        this.end(grpc.status.DEADLINE_EXCEEDED, `no hello within ${HELLO_TIMEOUT_MS / 1000}s`);
      }
    }, HELLO_TIMEOUT_MS);
    this.helloTimer.unref();
    this.enqueue(() => this.authenticate());
  }

  // ---- AgentSession

  send(command: AgentCommand): boolean {
    if (this.state !== 'open' || this.call.destroyed || this.call.writableEnded) return false;
    this.call.write(toControllerMessage(command));
    return true;
  }

  close(end: SessionEnd): void {
    this.end(END_CODES[end.reason], end.message);
  }

  // ---- stream handling

  private receive(message: agentV1.AgentMessage__Output): void {
    if (this.state === 'closed') return;
    // Hot path: proof of life is a Map write, no promise, no I/O, no log line.
    if (this.state === 'open' && (message.body === 'heartbeat' || message.body === 'pong')) {
      this.deps.liveness.touch(this.agentId, this.agentName, { health: toAgentHealth(message.heartbeat?.health) });
      return;
    }
    this.enqueue(() => this.process(message));
  }

  private enqueue(work: () => Promise<void>): void {
    this.queue = this.queue.then(async () => {
      if (this.state === 'closed') return;
      try {
        await work();
      } catch (error) {
        // The database is the truth: when it cannot take a message, the agent must send it
        // again. Ending the stream makes it reconnect (with backoff) and re-send what is
        // not acknowledged.
        this.deps.logger.error(`stream of agent ${this.agentName || '(unidentified)'} failed: ${(error as Error).message}`, (error as Error).stack);
        this.end(grpc.status.UNAVAILABLE, 'the controller could not process a message; reconnect and send it again');
      }
    });
  }

  private async authenticate(): Promise<void> {
    const agent = await this.deps.agents.findByFingerprint(this.fingerprint);
    if (!agent) {
      this.end(grpc.status.UNAUTHENTICATED, 'this client certificate was not issued to an enrolled agent of this controller');
      return;
    }
    if (agent.revokedAt) {
      this.end(grpc.status.PERMISSION_DENIED, `agent ${agent.name} has been revoked`);
      return;
    }
    if (agent.certNotAfter.getTime() <= this.deps.clock.now().getTime()) {
      this.end(grpc.status.UNAUTHENTICATED, `the certificate of agent ${agent.name} expired at ${agent.certNotAfter.toISOString()}; enroll it again`);
      return;
    }
    this.agent = agent;
    this.agentId = agent.id;
    this.agentName = agent.name;
    if (this.state === 'authenticating') this.state = 'awaiting_hello';
  }

  private async process(message: agentV1.AgentMessage__Output): Promise<void> {
    if (this.state === 'awaiting_hello') {
      if (message.body !== 'hello' || !message.hello) {
        this.end(grpc.status.INVALID_ARGUMENT, `the first message on a stream must be hello, not ${message.body ?? 'an empty message'}`);
        return;
      }
      await this.hello(message.hello);
      return;
    }
    if (this.state !== 'open') return;
    const { liveness, results } = this.deps;
    liveness.touch(this.agentId, this.agentName);
    switch (message.body) {
      case 'heartbeat':
      case 'pong':
        return;
      case 'hello':
        // A second Hello on an open stream changes nothing but the health it carries.
        liveness.touch(this.agentId, this.agentName, { health: toAgentHealth(message.hello?.health) });
        return;
      case 'jobAccepted': {
        const startedAt = Number(message.jobAccepted?.startedAtUnixMs ?? 0);
        await results.accepted(this.agentId, message.jobAccepted?.jobId ?? '', startedAt > 0 ? new Date(startedAt) : null);
        return;
      }
      case 'jobProgress':
        if (message.jobProgress) results.progress(this.agentId, toJobProgressReport(message.jobProgress));
        return;
      case 'jobFinished': {
        if (!message.jobFinished) return;
        const report = toJobFinishedReport(message.jobFinished);
        await results.finished(this.agentId, report);
        this.send({ type: 'jobFinishedAck', jobId: report.jobId });
        return;
      }
      default:
        // A message kind newer than this controller: ignore it (fields are only ever added).
        return;
    }
  }

  private async hello(hello: agentV1.Hello__Output): Promise<void> {
    const agent = this.agent!;
    const { sessions, liveness, dispatcher, config } = this.deps;
    clearTimeout(this.helloTimer);
    this.state = 'open';
    const replaced = sessions.register(this);
    if (replaced) this.deps.logger.log(`agent ${agent.name} opened a new stream; the previous one was closed`);

    this.call.write({
      welcome: {
        heartbeatIntervalSeconds: config.heartbeatIntervalSeconds,
        agentId: agent.id,
        name: agent.name,
        labels: agent.labels,
      },
    });
    const health = toAgentHealth(hello.health);
    liveness.touch(agent.id, agent.name, {
      health,
      version: hello.agentVersion || health?.agentVersion || undefined,
      hostname: health?.hostname || undefined,
    });
    await dispatcher.agentConnected(agent.id, [...(hello.runningJobIds ?? [])]);
  }

  /** Ends the stream with a status (once). */
  private end(code: grpc.status, details: string): void {
    if (this.state === 'closed') return;
    this.finish();
    endCall(this.call, code, details);
  }

  /** Forgets the stream (it ended, or is being ended). */
  private finish(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    clearTimeout(this.helloTimer);
    this.deps.sessions.unregister(this);
  }
}

/** Ends a server stream with a status (OK ends it normally). Safe on a stream already gone. */
function endCall(call: ConnectCall, code: grpc.status, details: string): void {
  if (call.destroyed || call.writableEnded) return;
  if (code === grpc.status.OK) {
    call.end();
    return;
  }
  const error: Partial<grpc.StatusObject> = { code, details, metadata: new grpc.Metadata() };
  call.emit('error', error);
}
