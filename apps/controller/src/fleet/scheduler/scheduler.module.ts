import { Module } from '@nestjs/common';
import { AgentsModule } from '../agents/agents.module';
import { JobsModule } from '../jobs/jobs.module';
import { FleetSharedModule } from '../shared/fleet-shared.module';
import { ScheduleStateStore } from './schedule-state.store';
import { SchedulerService } from './scheduler.service';

/** The scheduler: policies' cron schedules → jobs. */
@Module({
  imports: [FleetSharedModule, AgentsModule, JobsModule],
  providers: [ScheduleStateStore, SchedulerService],
  exports: [SchedulerService],
})
export class SchedulerModule {}
