import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown, OnModuleDestroy } from '@nestjs/common';
import * as grpc from '@grpc/grpc-js';
import { loadAgentGatewayPackage } from '@coffer/contracts';
import { AppConfig } from '../../config/app-config';
import { AgentSessions } from '../agents/agent-sessions';
import { PkiService } from '../pki/pki.service';
import { AgentStreamHandler } from './agent-stream.handler';
import { EnrollHandler } from './enroll.handler';
import { agentServerCredentials } from './tls-credentials';

/**
 * Server options for many long-lived, mostly idle streams: the server pings a connection
 * after a minute of silence (agents heartbeat far more often, so this only finds dead
 * peers), allows agents' own keepalive pings every 10 s, and skips channelz bookkeeping.
 */
const SERVER_OPTIONS: grpc.ServerOptions = {
  'grpc.keepalive_time_ms': 60_000,
  'grpc.keepalive_timeout_ms': 20_000,
  'grpc.http2.min_ping_interval_without_data_ms': 10_000,
  'grpc.keepalive_permit_without_calls': 1,
  'grpc.max_receive_message_length': 16 * 1024 * 1024,
  'grpc.enable_channelz': 0,
};

/** How long shutdown waits for streams to end before cutting them. */
const SHUTDOWN_GRACE_MS = 5_000;

/**
 * The gRPC server agents dial (plain @grpc/grpc-js inside a Nest provider): Enroll and
 * Connect on one TLS port. Started when the application has bootstrapped; `boundPort` is
 * the port actually bound (config.grpcPort may be 0).
 */
@Injectable()
export class AgentGatewayServer implements OnApplicationBootstrap, OnModuleDestroy, OnApplicationShutdown {
  private readonly logger = new Logger(AgentGatewayServer.name);
  private server: grpc.Server | undefined;

  /** The port the gRPC server listens on once started. */
  boundPort = 0;

  constructor(
    private readonly config: AppConfig,
    private readonly pki: PkiService,
    private readonly enroll: EnrollHandler,
    private readonly streams: AgentStreamHandler,
    private readonly sessions: AgentSessions,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const service = loadAgentGatewayPackage().coffer.agent.v1.AgentGateway.service;
    const server = new grpc.Server(SERVER_OPTIONS);
    server.addService(service, {
      Enroll: (call: Parameters<EnrollHandler['handle']>[0], callback: Parameters<EnrollHandler['handle']>[1]) => this.enroll.handle(call, callback),
      Connect: (call: Parameters<AgentStreamHandler['handle']>[0]) => this.streams.handle(call),
    });
    const address = joinHostPort(this.config.grpcHost, this.config.grpcPort);
    this.boundPort = await new Promise<number>((resolve, reject) =>
      server.bindAsync(address, agentServerCredentials(this.pki.serverIdentity()), (error, port) => (error ? reject(error) : resolve(port))),
    );
    this.server = server;
    this.logger.log(`agent gateway (gRPC, TLS) listening on ${joinHostPort(this.config.grpcHost, this.boundPort)}`);
  }

  async onModuleDestroy(): Promise<void> {
    await this.stop();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.stop();
  }

  /** Ends every stream (agents reconnect, to this or another replica) and stops listening. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    this.sessions.closeAll({ reason: 'shutdown', message: 'the controller is shutting down; reconnect later' });
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        server.forceShutdown();
        resolve();
      }, SHUTDOWN_GRACE_MS);
      timer.unref();
      server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

function joinHostPort(host: string, port: number): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
}
