import { Body, Controller, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { JobView } from '@coffer/contracts';
import { z } from 'zod';
import { parseRequestBody } from '../../http/request-body';
import { JobsService } from './jobs.service';

const restoreSchema = z.strictObject({
  snapshot: z.string().trim().min(1, 'is required (a snapshot id or a unique prefix of one)'),
  agent: z.string().trim().min(1, 'is required (the agent to restore on)'),
  target: z
    .string()
    .min(1, 'is required')
    .refine((path) => path.startsWith('/'), { message: 'must be an absolute directory on the agent host' })
    .refine((path) => !path.split('/').includes('..'), { message: 'must not contain ".."' }),
  include: z.array(z.string().min(1, 'must not be empty')).default([]),
});

/** Restores: a snapshot from the catalog onto an agent's host. */
@ApiTags('jobs')
@ApiBearerAuth()
@Controller('restores')
export class RestoresController {
  constructor(private readonly jobs: JobsService) {}

  @Post()
  @ApiOperation({ summary: 'Restore a snapshot into a directory on any agent' })
  @ApiBody({
    schema: {
      type: 'object',
      required: ['snapshot', 'agent', 'target'],
      properties: {
        snapshot: { type: 'string', example: '3f9a1c2e' },
        agent: { type: 'string', example: 'web-1' },
        target: { type: 'string', example: '/srv/restore' },
        include: { type: 'array', items: { type: 'string' } },
      },
    },
  })
  restore(@Body() body: unknown): Promise<JobView> {
    return this.jobs.restore(parseRequestBody(restoreSchema, body ?? {}));
  }
}
