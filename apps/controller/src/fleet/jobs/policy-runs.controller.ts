import { Body, Controller, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import type { JobView } from '@coffer/contracts';
import { z } from 'zod';
import { parseRequestBody } from '../../http/request-body';
import { JobsService } from './jobs.service';

const runPolicySchema = z.strictObject({ agent: z.string().min(1, 'must not be empty').optional() });

/** Running a policy now (the policy documents themselves are served by the catalog side). */
@ApiTags('policies')
@ApiBearerAuth()
@Controller('policies')
export class PolicyRunsController {
  constructor(private readonly jobs: JobsService) {}

  @Post(':name/run')
  @ApiOperation({ summary: 'Back up now: one job per agent the policy selects, or only the given agent (422 if it does not match)' })
  @ApiParam({ name: 'name', description: 'Policy name' })
  @ApiBody({ required: false, schema: { type: 'object', properties: { agent: { type: 'string', example: 'db-1' } } } })
  run(@Param('name') name: string, @Body() body: unknown): Promise<JobView[]> {
    const request = parseRequestBody(runPolicySchema, body ?? {});
    return this.jobs.runPolicy(name, request.agent);
  }
}
