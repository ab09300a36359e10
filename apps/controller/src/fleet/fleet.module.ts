import { Module } from '@nestjs/common';
import { AgentsModule } from './agents/agents.module';
import { EnrollmentModule } from './enrollment/enrollment.module';
import { GatewayModule } from './gateway/gateway.module';
import { JobsModule } from './jobs/jobs.module';
import { PkiModule } from './pki/pki.module';
import { SchedulerModule } from './scheduler/scheduler.module';

/**
 * The fleet side of the controller: the CA (pki), join tokens and enrollment, agents and
 * their liveness, jobs (dispatch, results, deadlines), the scheduler, and the gRPC gateway
 * agents connect to. Needs from the platform: TypeORM's DataSource, AppConfig, and the
 * RepositoryDirectory / PolicyDirectory / SnapshotCatalog ports (global providers).
 */
@Module({
  imports: [PkiModule, EnrollmentModule, AgentsModule, JobsModule, SchedulerModule, GatewayModule],
  exports: [GatewayModule, AgentsModule, JobsModule],
})
export class FleetModule {}
