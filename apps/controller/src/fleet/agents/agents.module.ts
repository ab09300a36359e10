import { Module } from '@nestjs/common';
import { FleetSharedModule } from '../shared/fleet-shared.module';
import { AgentLivenessService } from './agent-liveness.service';
import { AgentSessions } from './agent-sessions';
import { AgentStore } from './agent.store';
import { AgentsController } from './agents.controller';
import { AgentsService } from './agents.service';

/** Agents: the table, who is connected (sessions), who is alive (liveness), and the REST routes. */
@Module({
  imports: [FleetSharedModule],
  controllers: [AgentsController],
  providers: [AgentStore, AgentSessions, AgentLivenessService, AgentsService],
  exports: [AgentStore, AgentSessions, AgentLivenessService, AgentsService],
})
export class AgentsModule {}
