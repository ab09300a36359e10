import { Module } from '@nestjs/common';
import { AgentsModule } from '../agents/agents.module';
import { PkiModule } from '../pki/pki.module';
import { FleetSharedModule } from '../shared/fleet-shared.module';
import { EnrollmentService } from './enrollment.service';
import { JoinTokenService } from './join-token.service';
import { JoinTokenStore } from './join-token.store';
import { JoinTokensController } from './join-tokens.controller';

/** Join tokens (REST) and enrollment (called by the gRPC gateway). */
@Module({
  imports: [FleetSharedModule, PkiModule, AgentsModule],
  controllers: [JoinTokensController],
  providers: [JoinTokenStore, JoinTokenService, EnrollmentService],
  exports: [EnrollmentService],
})
export class EnrollmentModule {}
