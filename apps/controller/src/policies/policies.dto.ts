import { ApiProperty } from '@nestjs/swagger';
import type { ApplyPolicyResult, PolicyChange, PolicyDocument, PolicyView } from '@coffer/contracts';

/** OpenAPI component names of the policy document schemas (generated from the zod schema, see openapi.ts). */
export const POLICY_DOCUMENT_SCHEMA = 'PolicyDocument';
export const POLICY_DOCUMENT_INPUT_SCHEMA = 'PolicyDocumentInput';

export class PolicyViewDto implements PolicyView {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ example: 'web-files' })
  name!: string;

  @ApiProperty({ allOf: [{ $ref: `#/components/schemas/${POLICY_DOCUMENT_SCHEMA}` }], description: 'the document with every default filled in' })
  document!: PolicyDocument;

  @ApiProperty({ format: 'date-time' })
  createdAt!: string;

  @ApiProperty({ format: 'date-time' })
  updatedAt!: string;

  @ApiProperty({ format: 'date-time', nullable: true, type: String, description: 'next scheduled backup; null when disabled or unscheduled' })
  nextRunAt!: string | null;
}

export class PolicyChangeDto implements PolicyChange {
  @ApiProperty({ example: 'schedules.0.cron', description: 'dotted path into the document' })
  path!: string;

  @ApiProperty({ description: 'old value (null when added)', example: '0 2 * * *' })
  from!: unknown;

  @ApiProperty({ description: 'new value (null when removed)', example: '0 3 * * *' })
  to!: unknown;
}

export class ApplyPolicyResultDto implements ApplyPolicyResult {
  @ApiProperty({ enum: ['created', 'updated', 'unchanged'] })
  result!: 'created' | 'updated' | 'unchanged';

  @ApiProperty({ type: [PolicyChangeDto], description: 'what an update changed (empty when created or unchanged)' })
  changes!: PolicyChangeDto[];

  @ApiProperty({ type: PolicyViewDto })
  policy!: PolicyViewDto;
}
