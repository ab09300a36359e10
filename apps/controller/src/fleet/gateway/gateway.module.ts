import { Module } from '@nestjs/common';
import { AgentsModule } from '../agents/agents.module';
import { EnrollmentModule } from '../enrollment/enrollment.module';
import { JobsModule } from '../jobs/jobs.module';
import { PkiModule } from '../pki/pki.module';
import { FleetSharedModule } from '../shared/fleet-shared.module';
import { AgentGatewayServer } from './agent-gateway.server';
import { AgentStreamHandler } from './agent-stream.handler';
import { EnrollHandler } from './enroll.handler';

/** The gRPC side: the server, Enroll and Connect. */
@Module({
  imports: [FleetSharedModule, PkiModule, AgentsModule, EnrollmentModule, JobsModule],
  providers: [AgentGatewayServer, EnrollHandler, AgentStreamHandler],
  exports: [AgentGatewayServer],
})
export class GatewayModule {}
