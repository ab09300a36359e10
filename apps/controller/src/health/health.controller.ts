import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { Public } from '../auth/public.decorator';
import { ApiException } from '../shared/api-exception';
import { HealthService } from './health.service';

/** Liveness and readiness for load balancers and orchestrators; outside /api/v1 and without a token. */
@ApiTags('health')
@Public()
@Controller()
export class HealthController {
  constructor(private readonly health: HealthService) {}

  @Get('healthz')
  @ApiOperation({ summary: 'Liveness: the process answers' })
  @ApiOkResponse({ schema: { example: { status: 'ok' } } })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('readyz')
  @ApiOperation({ summary: 'Readiness: the database answers' })
  @ApiOkResponse({ schema: { example: { status: 'ready' } } })
  @ApiServiceUnavailableResponse({ description: 'database_unreachable' })
  async ready(): Promise<{ status: 'ready' }> {
    const problem = await this.health.databaseProblem();
    if (problem) throw new ApiException(503, 'database_unreachable', problem);
    return { status: 'ready' };
  }
}
