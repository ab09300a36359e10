import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { CreateRepositoryRequest, RepositoryView, resourceNameSchema } from '@coffer/contracts';
import { z } from 'zod';

/** Body of POST /repositories. */
export const createRepositorySchema = z.strictObject({
  name: resourceNameSchema,
  url: z.string().trim().min(1, 'must not be empty').max(2000, 'must be at most 2000 characters'),
  password: z.string().min(1, 'must not be empty').max(1000, 'must be at most 1000 characters'),
  environment: z
    .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, 'names must be environment variable names (letters, digits and "_")'), z.string().max(10_000))
    .default({}),
  initialize: z.boolean().default(false),
});
export type CreateRepositoryInput = z.output<typeof createRepositorySchema>;

export class CreateRepositoryRequestDto implements CreateRepositoryRequest {
  @ApiProperty({ example: 'main', description: 'lower-case letters, digits, ".", "_", "-"' })
  name!: string;

  @ApiProperty({ example: '/srv/backups/main', description: 'a local path or file:///path (s3:, azure:, sftp: to come)' })
  url!: string;

  @ApiProperty({ format: 'password', description: 'the repository password; stored encrypted, never returned' })
  password!: string;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { type: 'string' },
    description: 'storage credentials handed to agents as environment variables; stored encrypted, never returned',
  })
  environment?: Record<string, string>;

  @ApiPropertyOptional({ default: false, description: 'create the repository in storage when the location holds none' })
  initialize?: boolean;
}

export class RepositoryViewDto implements RepositoryView {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ example: 'main' })
  name!: string;

  @ApiProperty({ example: '/srv/backups/main', description: 'the location, with any password in it masked' })
  url!: string;

  @ApiProperty({ type: [String], example: ['AWS_ACCESS_KEY_ID'], description: 'names of the storage credential variables held' })
  environmentKeys!: string[];

  @ApiProperty({ format: 'date-time' })
  createdAt!: string;
}
