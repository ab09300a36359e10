import { Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import type { AgentView } from '@coffer/contracts';
import { AgentsService } from './agents.service';

/** Enrolled agents. */
@ApiTags('agents')
@ApiBearerAuth()
@Controller('agents')
export class AgentsController {
  constructor(private readonly agents: AgentsService) {}

  @Get()
  @ApiOperation({ summary: 'List agents with status, last heartbeat, health and running jobs' })
  list(): Promise<AgentView[]> {
    return this.agents.list();
  }

  @Get(':name')
  @ApiOperation({ summary: 'One agent' })
  @ApiParam({ name: 'name', description: 'The agent name' })
  get(@Param('name') name: string): Promise<AgentView> {
    return this.agents.get(name);
  }

  @Post(':name/revoke')
  @HttpCode(200)
  @ApiOperation({ summary: 'Revoke an agent: its stream ends now, its certificate is refused forever, its unfinished jobs fail' })
  @ApiParam({ name: 'name', description: 'The agent name' })
  revoke(@Param('name') name: string): Promise<AgentView> {
    return this.agents.revoke(name);
  }
}
