import { Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiParam, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { JobDetailView, JobStatus, JobView } from '@coffer/contracts';
import { z } from 'zod';
import { parseRequestQuery } from '../../http/request-body';
import { JobsService } from './jobs.service';

const STATUSES = ['queued', 'dispatched', 'running', 'succeeded', 'failed', 'cancelled', 'timed_out', 'missed'] as const;

const listQuerySchema = z.object({
  // ?status=failed,timed_out or ?status=failed&status=timed_out
  status: z
    .union([z.string(), z.array(z.string())])
    .optional()
    .transform((value) => (value === undefined ? undefined : [value].flat().flatMap((item) => item.split(',')).map((item) => item.trim()).filter(Boolean)))
    .pipe(z.array(z.enum(STATUSES, { error: `must be one of ${STATUSES.join(', ')}` })).optional()),
  agent: z.string().min(1).optional(),
  policy: z.string().min(1).optional(),
  limit: z.coerce.number({ error: 'must be a number' }).int('must be a whole number').min(1, 'must be at least 1').max(1000, 'must be at most 1000').default(100),
});

/** Jobs: the record of everything the fleet was asked to do. */
@ApiTags('jobs')
@ApiBearerAuth()
@Controller('jobs')
export class JobsController {
  constructor(private readonly jobs: JobsService) {}

  @Get()
  @ApiOperation({ summary: 'List jobs, newest first' })
  @ApiQuery({ name: 'status', required: false, description: `Comma-separated: ${STATUSES.join(', ')}` })
  @ApiQuery({ name: 'agent', required: false, description: 'Agent name' })
  @ApiQuery({ name: 'policy', required: false, description: 'Policy name' })
  @ApiQuery({ name: 'limit', required: false, description: '1-1000, default 100' })
  list(@Query() query: unknown): Promise<JobView[]> {
    const parsed = parseRequestQuery(listQuerySchema, query ?? {});
    return this.jobs.list({ statuses: parsed.status as JobStatus[] | undefined, agent: parsed.agent, policy: parsed.policy, limit: parsed.limit });
  }

  @Get(':id')
  @ApiOperation({ summary: 'One job with its transitions and log' })
  @ApiParam({ name: 'id', description: 'Job id (UUID)' })
  get(@Param('id') id: string): Promise<JobDetailView> {
    return this.jobs.get(id);
  }

  @Post(':id/cancel')
  @HttpCode(200)
  @ApiOperation({ summary: 'Cancel a job (409 when it has already finished)' })
  @ApiParam({ name: 'id', description: 'Job id (UUID)' })
  cancel(@Param('id') id: string): Promise<JobView> {
    return this.jobs.cancel(id);
  }
}
