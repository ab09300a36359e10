import * as grpc from '@grpc/grpc-js';
import type { agentV1, AgentGatewayPackage } from '@coffer/contracts';
// The one import past @coffer/contracts' index, on purpose: the index also loads the policy
// schema (zod, cron-parser), which the agent never uses and which costs an idle agent about
// 4 MiB of its 60 MiB budget. Same function, same loader options as everyone else's.
import { loadAgentGatewayPackage } from '@coffer/contracts/dist/agent-proto';

let gatewayPackage: AgentGatewayPackage | undefined;

/**
 * Keepalive: the agent's stream may sit idle between heartbeats; HTTP/2 pings find a dead
 * path (a controller host that vanished without closing the connection) within about a
 * minute and a half, and keep NAT and load-balancer entries alive. 60 s stays above the
 * grpc-js server's default minimum ping interval without calls.
 */
const CHANNEL_OPTIONS: grpc.ChannelOptions = {
  'grpc.keepalive_time_ms': 60_000,
  'grpc.keepalive_timeout_ms': 20_000,
  'grpc.keepalive_permit_without_calls': 1,
  // Every retry is the agent's own (connection-supervisor.ts); a fresh client per attempt.
  'grpc.enable_retries': 0,
};

/** A client of the controller's AgentGateway over TLS that trusts only `caPem`. */
export function createGatewayClient(target: string, credentials: grpc.ChannelCredentials): agentV1.AgentGatewayClient {
  gatewayPackage ??= loadAgentGatewayPackage();
  return new gatewayPackage.coffer.agent.v1.AgentGateway(target, credentials, CHANNEL_OPTIONS);
}

/** The message a controller put in a gRPC error, without grpc-js's "14 UNAVAILABLE: " prefix. */
export function statusDetails(err: unknown): string {
  const e = err as Partial<grpc.ServiceError>;
  const text = typeof e.details === 'string' && e.details !== '' ? e.details : err instanceof Error ? err.message : String(err);
  // grpc-js wraps connection failures: "No connection established. Last error: Error: connect
  // ECONNREFUSED 10.0.0.5:7443. Resolution note: " → "connect ECONNREFUSED 10.0.0.5:7443".
  return text
    .replace(/^No connection established\. Last error: (?:Error: )?/, '')
    .replace(/\.?\s*Resolution note:\s*$/, '')
    .trim();
}

/** The gRPC status code of an error, if it is a gRPC error. */
export function statusCode(err: unknown): grpc.status | undefined {
  const code = (err as Partial<grpc.ServiceError>).code;
  return typeof code === 'number' ? code : undefined;
}
