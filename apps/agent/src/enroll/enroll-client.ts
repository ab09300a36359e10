import * as grpc from '@grpc/grpc-js';
import type { agentV1 } from '@coffer/contracts';
import { AgentError } from '../shared/agent-error';
import type { ControllerAddress } from '../identity/controller-address';
import { createGatewayClient, statusCode, statusDetails } from '../connection/gateway-client';

/** What the agent sends to enroll (the token is the only secret in it). */
export interface EnrollRequest {
  token: string;
  csrPem: string;
  name: string;
  labels: Record<string, string>;
  hostname: string;
  agentVersion: string;
}

/** The identity the controller issued. */
export interface EnrollResult {
  agentId: string;
  name: string;
  certificatePem: string;
  caCertificatePem: string;
  labels: Record<string, string>;
}

const ENROLL_DEADLINE_MS = 30_000;

/**
 * Calls Enroll over TLS trusting only the pinned CA, with normal host name verification.
 * A refusal by the controller (UNAUTHENTICATED for a bad token, ALREADY_EXISTS for a taken
 * name, INVALID_ARGUMENT) becomes an AgentError carrying the controller's own message.
 */
export async function enroll(address: ControllerAddress, caPem: string, request: EnrollRequest): Promise<EnrollResult> {
  const client = createGatewayClient(address.target, grpc.credentials.createSsl(Buffer.from(caPem)));
  try {
    const response = await new Promise<agentV1.EnrollResponse__Output>((resolve, reject) => {
      client.Enroll(request, { deadline: Date.now() + ENROLL_DEADLINE_MS }, (err, res) => (err || !res ? reject(err) : resolve(res)));
    });
    return {
      agentId: response.agentId,
      name: response.name,
      certificatePem: response.certificatePem,
      caCertificatePem: response.caCertificatePem,
      labels: { ...response.labels },
    };
  } catch (err) {
    const code = statusCode(err);
    if (code === grpc.status.UNAVAILABLE || code === grpc.status.DEADLINE_EXCEEDED) {
      throw new AgentError(`cannot reach the controller at ${address.target}: ${statusDetails(err)}`);
    }
    if (code !== undefined) throw new AgentError(`the controller refused to enroll this agent: ${statusDetails(err)}`);
    throw err;
  } finally {
    client.close();
  }
}
