import { Body, Controller, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { databaseUrlSchema, hooksSchema, secretNameSchema, type JobView } from '@coffer/contracts';
import { z } from 'zod';
import { parseRequestBody } from '../../http/request-body';
import { JobsService } from './jobs.service';

const absoluteDirectory = z
  .string()
  .min(1, 'is required')
  .refine((path) => path.startsWith('/'), { message: 'must be an absolute directory on the agent host' })
  .refine((path) => !path.split('/').includes('..'), { message: 'must not contain ".."' });

const names = z.array(z.string().min(1, 'must not be empty')).min(1, 'needs at least one name; leave it out instead');

const databaseTargetSchema = z.union(
  [
    z.strictObject({
      postgres: z.strictObject({
        url: databaseUrlSchema('postgres', { requireDatabase: true }),
        clean: z.boolean().optional(),
        schemas: names.optional(),
        jobs: z.number().int('must be a whole number').min(1, 'must be at least 1').max(64, 'must be at most 64').optional(),
        sourceDatabase: z.string().min(1, 'must not be empty').optional(),
        globals: z.boolean().optional(),
        noOwner: z.boolean().optional(),
        passwordSecret: secretNameSchema.optional(),
      }),
    }),
    z.strictObject({
      mysql: z.strictObject({
        url: databaseUrlSchema('mysql', { requireDatabase: true }),
        clean: z.boolean().optional(),
        sourceDatabase: z.string().min(1, 'must not be empty').optional(),
        passwordSecret: secretNameSchema.optional(),
      }),
    }),
    z.strictObject({ redis: z.strictObject({ dir: absoluteDirectory, clean: z.boolean().optional() }) }),
  ],
  { error: () => 'must be one of { postgres: { url, … } }, { mysql: { url, … } } or { redis: { dir, … } }' },
);

const restoreSchema = z
  .strictObject({
    snapshot: z.string().trim().min(1, 'is required (a snapshot id or a unique prefix of one)'),
    agent: z.string().trim().min(1, 'is required (the agent to restore on)'),
    target: absoluteDirectory.optional(),
    include: z.array(z.string().min(1, 'must not be empty')).default([]),
    database: databaseTargetSchema.optional(),
    hooks: hooksSchema.optional(),
  })
  .superRefine((request, ctx) => {
    if (request.target === undefined && request.database === undefined) {
      ctx.addIssue({ code: 'custom', path: ['target'], message: 'is required (an absolute directory), unless database names a database to restore into' });
    }
    if (request.target !== undefined && request.database !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['database'], message: 'cannot be given with target: restore into a directory or into a database' });
    }
    if (request.database !== undefined && request.include.length > 0) {
      ctx.addIssue({ code: 'custom', path: ['include'], message: 'applies to directory restores only' });
    }
  });

const verifySchema = z.strictObject({
  snapshot: z.string().trim().min(1, 'is required (a snapshot id or a unique prefix of one)'),
  agent: z.string().trim().min(1, 'must not be empty').optional(),
  repository: z.string().trim().min(1, 'must not be empty').optional(),
});

/** Restores: a snapshot from the catalog onto an agent's host, or into a database. */
@ApiTags('jobs')
@ApiBearerAuth()
@Controller('restores')
export class RestoresController {
  constructor(private readonly jobs: JobsService) {}

  @Post()
  @ApiOperation({ summary: 'Restore a snapshot into a directory on any agent, or a database snapshot into a database (`database`)' })
  @ApiBody({
    schema: {
      type: 'object',
      required: ['snapshot', 'agent'],
      properties: {
        snapshot: { type: 'string', example: '3f9a1c2e' },
        agent: { type: 'string', example: 'web-1' },
        target: { type: 'string', example: '/srv/restore', description: 'a directory; exactly one of target and database' },
        include: { type: 'array', items: { type: 'string' } },
        database: {
          type: 'object',
          description: 'one of postgres { url, clean, schemas, jobs, sourceDatabase, globals, noOwner, passwordSecret }, mysql { url, clean, sourceDatabase, passwordSecret }, redis { dir, clean }',
          example: { postgres: { url: 'postgres://root@127.0.0.1:5432/app_copy', clean: true } },
        },
        hooks: { type: 'object', example: { before: [{ run: 'systemctl stop app', timeout: '5m', onFailure: 'fail' }], after: [] } },
      },
    },
  })
  restore(@Body() body: unknown): Promise<JobView> {
    return this.jobs.restore(parseRequestBody(restoreSchema, body ?? {}));
  }
}

/** Verifications: a database snapshot checked with the engine's tools, without restoring it. */
@ApiTags('jobs')
@ApiBearerAuth()
@Controller('verifications')
export class VerificationsController {
  constructor(private readonly jobs: JobsService) {}

  @Post()
  @ApiOperation({ summary: 'Verify a database snapshot on an agent (default: the one that took it, if online); 422 not_a_database_snapshot' })
  @ApiBody({
    schema: {
      type: 'object',
      required: ['snapshot'],
      properties: { snapshot: { type: 'string', example: '3f9a1c2e' }, agent: { type: 'string', example: 'db-1' }, repository: { type: 'string', example: 'main' } },
    },
  })
  verify(@Body() body: unknown): Promise<JobView> {
    return this.jobs.verify(parseRequestBody(verifySchema, body ?? {}));
  }
}
