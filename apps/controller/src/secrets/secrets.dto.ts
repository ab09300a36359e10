import { ApiProperty } from '@nestjs/swagger';
import { secretNameSchema, SecretView, SetSecretRequest } from '@coffer/contracts';
import { z } from 'zod';

/** Body of PUT /secrets/:name. */
export const setSecretSchema = z.strictObject({
  value: z.string().min(1, 'must not be empty').max(10_000, 'must be at most 10000 characters'),
});

/** The name in the path of /secrets/:name. */
export const secretNameParam = secretNameSchema;

export class SetSecretRequestDto implements SetSecretRequest {
  @ApiProperty({ format: 'password', description: 'the value (e.g. a database password); stored encrypted, never returned' })
  value!: string;
}

export class SecretViewDto implements SecretView {
  @ApiProperty({ example: 'pg-backup' })
  name!: string;

  @ApiProperty({ format: 'date-time' })
  createdAt!: string;

  @ApiProperty({ format: 'date-time' })
  updatedAt!: string;
}
