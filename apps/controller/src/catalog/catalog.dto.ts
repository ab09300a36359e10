import { ApiProperty } from '@nestjs/swagger';
import type { CatalogSnapshotView, CatalogSyncResult } from '@coffer/contracts';
import { z } from 'zod';

/** Query of GET /snapshots: each filter optional, each given at most once. */
export const snapshotFilterSchema = z.object({
  agent: z.string().min(1).optional(),
  policy: z.string().min(1).optional(),
  repository: z.string().min(1).optional(),
});
export type SnapshotFilter = z.output<typeof snapshotFilterSchema>;

export class CatalogSnapshotViewDto implements CatalogSnapshotView {
  @ApiProperty({ description: 'snapshot id (64 hex digits)' })
  id!: string;

  @ApiProperty({ description: 'first 8 hex digits' })
  shortId!: string;

  @ApiProperty({ example: 'main' })
  repository!: string;

  @ApiProperty({ nullable: true, type: String, description: 'the agent whose job made it; null when found by a sync' })
  agent!: string | null;

  @ApiProperty()
  hostname!: string;

  @ApiProperty({ nullable: true, type: String })
  policy!: string | null;

  @ApiProperty({ example: 'files' })
  sourceKind!: string;

  @ApiProperty({ type: [String] })
  paths!: string[];

  @ApiProperty({ type: [String] })
  tags!: string[];

  @ApiProperty({ format: 'date-time' })
  time!: string;

  @ApiProperty()
  files!: number;

  @ApiProperty()
  bytesRead!: number;

  @ApiProperty()
  bytesNew!: number;

  @ApiProperty()
  bytesStored!: number;

  @ApiProperty()
  durationSeconds!: number;

  @ApiProperty({ enum: ['available', 'forgotten'] })
  status!: 'available' | 'forgotten';

  @ApiProperty({ nullable: true, type: String, format: 'uuid' })
  jobId!: string | null;
}

export class CatalogSyncResultDto implements CatalogSyncResult {
  @ApiProperty({ example: 'main' })
  repository!: string;

  @ApiProperty({ description: 'snapshots found in storage' })
  total!: number;

  @ApiProperty({ description: 'catalog entries created' })
  added!: number;

  @ApiProperty({ description: 'catalog entries marked forgotten because the snapshot is gone from storage' })
  removed!: number;
}
