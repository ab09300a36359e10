import { Body, Controller, Get, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CreatedJoinToken, JoinTokenView, labelsSchema, parseDurationSeconds } from '@coffer/contracts';
import { z } from 'zod';
import { parseRequestBody } from '../../http/request-body';
import { JoinTokenService } from './join-token.service';

const MAX_TTL_SECONDS = 30 * 86_400;

const createJoinTokenSchema = z.strictObject({
  labels: labelsSchema.default({}),
  ttl: z
    .string()
    .default('1h')
    .refine((text) => parseDurationSeconds(text) !== undefined, { message: 'must be a duration like "15m", "1h" or "7d"' })
    .refine((text) => (parseDurationSeconds(text) ?? 0) >= 1, { message: 'must be at least 1s' })
    .refine((text) => (parseDurationSeconds(text) ?? 0) <= MAX_TTL_SECONDS, { message: 'must be at most 30d' }),
  uses: z.number().int('must be a whole number').min(1, 'must be at least 1').max(10_000, 'must be at most 10000').default(1),
});

/** Join tokens for enrolling agents. */
@ApiTags('agents')
@ApiBearerAuth()
@Controller('tokens')
export class JoinTokensController {
  constructor(private readonly tokens: JoinTokenService) {}

  @Post()
  @ApiOperation({ summary: 'Create a join token (shown once) for `coffer-agent enroll --token`' })
  @ApiBody({
    schema: {
      type: 'object',
      properties: {
        labels: { type: 'object', additionalProperties: { type: 'string' }, example: { role: 'db' } },
        ttl: { type: 'string', example: '1h', description: 'How long the token is valid (default 1h, at most 30d)' },
        uses: { type: 'integer', example: 1, description: 'How many agents may enroll with it (default 1)' },
      },
    },
  })
  create(@Body() body: unknown): Promise<CreatedJoinToken> {
    const request = parseRequestBody(createJoinTokenSchema, body ?? {});
    return this.tokens.create({ labels: request.labels, ttlSeconds: parseDurationSeconds(request.ttl)!, uses: request.uses });
  }

  @Get()
  @ApiOperation({ summary: 'List join tokens (never their secrets)' })
  list(): Promise<JoinTokenView[]> {
    return this.tokens.list();
  }
}
