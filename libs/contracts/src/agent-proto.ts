import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { ProtoGrpcType } from './generated/agent_gateway';

/**
 * The loader options every process uses for the agent protocol. `npm run gen:proto` passes
 * the same options to proto-loader-gen-types, so the generated typings describe exactly the
 * objects grpc-js hands us: camelCase fields, enums as their names, 64-bit integers as
 * numbers (byte counts stay far below 2^53), defaults filled in, and a `body`/`spec`/`kind`
 * field naming which member of each oneof is set.
 */
export const AGENT_PROTO_LOADER_OPTIONS: protoLoader.Options = {
  keepCase: false,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
};

/** Directory holding `coffer/agent/v1/agent_gateway.proto` (the repository's proto/). */
export function protoRoot(): string {
  // dist/ and src/ are both two levels below libs/contracts; proto/ is at the workspace root.
  return path.resolve(__dirname, '..', '..', '..', 'proto');
}

/** Loads the AgentGateway service definition (for a server or a client). */
export function loadAgentGatewayPackage(): ProtoGrpcType {
  const definition = protoLoader.loadSync('coffer/agent/v1/agent_gateway.proto', {
    ...AGENT_PROTO_LOADER_OPTIONS,
    includeDirs: [protoRoot()],
  });
  return grpc.loadPackageDefinition(definition) as unknown as ProtoGrpcType;
}

export * as agentV1 from './generated/coffer/agent/v1';
export type { ProtoGrpcType as AgentGatewayPackage } from './generated/agent_gateway';
