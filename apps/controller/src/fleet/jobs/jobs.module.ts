import { Module } from '@nestjs/common';
import { AgentsModule } from '../agents/agents.module';
import { FleetSharedModule } from '../shared/fleet-shared.module';
import { JobDispatcher } from './job-dispatcher.service';
import { JobResultsService } from './job-results.service';
import { JobSweeper } from './job-sweeper.service';
import { JobStore } from './job.store';
import { JobsController } from './jobs.controller';
import { JobsService } from './jobs.service';
import { PolicyRunsController } from './policy-runs.controller';
import { RestoresController, VerificationsController } from './restores.controller';

/** Jobs: storage, dispatch to agents, results, deadlines, and the REST routes. */
@Module({
  imports: [FleetSharedModule, AgentsModule],
  controllers: [JobsController, PolicyRunsController, RestoresController, VerificationsController],
  providers: [JobStore, JobsService, JobDispatcher, JobResultsService, JobSweeper],
  exports: [JobStore, JobsService, JobDispatcher, JobResultsService],
})
export class JobsModule {}
