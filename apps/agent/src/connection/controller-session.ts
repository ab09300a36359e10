import * as grpc from '@grpc/grpc-js';
import type { agentV1 } from '@coffer/contracts';
import type { HealthCollector } from '../health/health-collector';
import type { JobEventSink, JobManager } from '../jobs/job-manager';
import type { Logger } from '../shared/logger';
import { agentVersion } from '../shared/agent-version';
import { statusCode, statusDetails } from './gateway-client';
import { CAPABILITIES, healthMessage, jobAcceptedMessage, jobFinishedMessage, jobProgressMessage, toJobRequest } from './wire-mapping';

/** How a session ended. */
export type SessionEnd =
  /** The controller refused this agent for good (PERMISSION_DENIED: revoked; UNAUTHENTICATED: unknown). */
  | { kind: 'revoked'; details: string }
  /** Anything else: reconnect. `welcomedForMs` is how long the session was up after Welcome (0 if never). */
  | { kind: 'lost'; details: string; welcomedForMs: number };

/** Settings of a session. */
export interface SessionOptions {
  jobs: JobManager;
  health: HealthCollector;
  logger: Logger;
  /** The agent's name, for the log. */
  agentName: string;
  target: string;
  /** A controller that does not answer Hello within this long is given up on. */
  welcomeTimeoutMs?: number;
}

const DEFAULT_HEARTBEAT_SECONDS = 30;

/**
 * One Connect stream, from Hello to its end. Protocol (agent_gateway.proto): the agent sends
 * Hello; the controller answers Welcome; then the agent re-sends every un-acked JobFinished
 * and sends a Heartbeat every welcome.heartbeat_interval_seconds, answers Ping with Pong,
 * and hands RunJob / CancelJob / JobFinishedAck to the job manager. Job events go out on
 * this stream only while it is open and welcomed; results wait in the ledger otherwise.
 */
export class ControllerSession {
  private call?: grpc.ClientDuplexStream<agentV1.AgentMessage, agentV1.ControllerMessage__Output>;
  private ended = false;
  private welcomedAt = 0;
  private heartbeatTimer?: NodeJS.Timeout;
  private welcomeTimer?: NodeJS.Timeout;
  private resolveEnd!: (end: SessionEnd) => void;
  private readonly sink: JobEventSink = {
    accepted: (jobId, startedAtMs) => this.write(jobAcceptedMessage(jobId, startedAtMs)),
    progress: (report) => this.write(jobProgressMessage(report)),
    finished: (result) => this.write(jobFinishedMessage(result)),
  };

  constructor(
    private readonly client: agentV1.AgentGatewayClient,
    private readonly options: SessionOptions,
  ) {}

  /** Runs the session; resolves when the stream is over (never rejects). */
  async run(): Promise<SessionEnd> {
    const ended = new Promise<SessionEnd>((resolve) => (this.resolveEnd = resolve));
    let health: agentV1.Health;
    try {
      health = healthMessage(await this.options.health.collect());
    } catch (err) {
      this.end(new Error(`cannot collect health for Hello: ${(err as Error).message}`));
      return ended;
    }
    if (this.ended) return ended; // closed while health was being collected
    const call = this.client.Connect();
    this.call = call;
    call.on('data', (message: agentV1.ControllerMessage__Output) => this.onMessage(message));
    call.on('error', (err) => this.end(err));
    call.on('status', (status: grpc.StatusObject) => this.end(status.code === grpc.status.OK ? new Error('the controller closed the stream') : status));
    // No 'end' handler: every call ends with 'status' (after 'error' when not OK), which says why.
    this.write({ hello: { agentVersion: agentVersion(), capabilities: CAPABILITIES, runningJobIds: this.options.jobs.runningJobIds(), health } });
    const welcomeTimeoutMs = this.options.welcomeTimeoutMs ?? 30_000;
    this.welcomeTimer = setTimeout(() => {
      this.end(new Error(`no Welcome within ${welcomeTimeoutMs / 1000} s of Hello`));
    }, welcomeTimeoutMs);
    return ended;
  }

  /** Ends the session from our side (the agent is stopping). */
  close(): void {
    this.end(new Error('the agent is stopping'));
  }

  private onMessage(message: agentV1.ControllerMessage__Output): void {
    const jobs = this.options.jobs;
    switch (message.body) {
      case 'welcome':
        this.onWelcome(message.welcome!);
        break;
      case 'runJob': {
        const mapped = toJobRequest(message.runJob!);
        if ('request' in mapped) jobs.runJob(mapped.request);
        else jobs.rejectJob(mapped.jobId, mapped.kind, mapped.problem);
        break;
      }
      case 'cancelJob':
        jobs.cancelJob(message.cancelJob!.jobId, message.cancelJob!.reason);
        break;
      case 'ping':
        this.write({ pong: { nonce: message.ping!.nonce } });
        break;
      case 'jobFinishedAck':
        jobs.acknowledge(message.jobFinishedAck!.jobId);
        break;
      default:
        // A message type newer than this agent: fields are only ever added, so ignoring it is safe.
        break;
    }
  }

  private onWelcome(welcome: agentV1.Welcome__Output): void {
    if (this.welcomedAt > 0) return;
    this.welcomedAt = Date.now();
    clearTimeout(this.welcomeTimer);
    const seconds = welcome.heartbeatIntervalSeconds > 0 ? welcome.heartbeatIntervalSeconds : DEFAULT_HEARTBEAT_SECONDS;
    const { logger, agentName, target, jobs } = this.options;
    logger.info(`connected to the controller at ${target} as ${agentName} (id ${welcome.agentId}); heartbeat every ${seconds} s`);
    if (welcome.name && welcome.name !== agentName) {
      logger.warn(`the controller knows this agent as "${welcome.name}"; snapshots keep recording the enrolled name "${agentName}"`);
    }
    jobs.setSink(this.sink);
    jobs.resendOutbox();
    this.scheduleHeartbeat(seconds * 1000);
  }

  private scheduleHeartbeat(intervalMs: number): void {
    this.heartbeatTimer = setTimeout(async () => {
      if (this.ended) return;
      try {
        const health = healthMessage(await this.options.health.collect());
        this.write({ heartbeat: { health, runningJobIds: this.options.jobs.runningJobIds() } });
      } catch (err) {
        this.options.logger.warn(`cannot collect health: ${(err as Error).message}`);
      }
      if (!this.ended) this.scheduleHeartbeat(intervalMs);
    }, intervalMs);
  }

  private write(message: agentV1.AgentMessage): void {
    if (this.ended || !this.call) return;
    try {
      this.call.write(message);
    } catch {
      // the stream broke between the check and the write; 'error' ends the session
    }
  }

  private end(reason: Error | grpc.StatusObject): void {
    if (this.ended) return;
    this.ended = true;
    clearTimeout(this.welcomeTimer);
    clearTimeout(this.heartbeatTimer);
    // Only detach the job manager from this stream; jobs keep running.
    this.options.jobs.setSink(undefined);
    const call = this.call;
    if (call) {
      call.removeAllListeners('data');
      call.on('error', () => undefined); // late errors of a stream we are done with
      call.cancel();
    }
    const code = statusCode(reason);
    const details = statusDetails(reason);
    if (code === grpc.status.PERMISSION_DENIED || code === grpc.status.UNAUTHENTICATED) {
      this.resolveEnd({ kind: 'revoked', details });
    } else {
      this.resolveEnd({ kind: 'lost', details, welcomedForMs: this.welcomedAt > 0 ? Date.now() - this.welcomedAt : 0 });
    }
  }
}
