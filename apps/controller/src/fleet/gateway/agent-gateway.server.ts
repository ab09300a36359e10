import { Injectable } from '@nestjs/common';

/** Placeholder for the gRPC server agents dial. */
@Injectable()
export class AgentGatewayServer {
  /** The port the gRPC server listens on once started. */
  boundPort = 0;
}
