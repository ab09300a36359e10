import { Column, Entity, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { bigintAsNumber } from '../database/bigint-transformer';
import { RepositoryEntity } from '../repositories/repository.entity';

/** Whether a catalogued snapshot is still in its repository. */
export type SnapshotStatus = 'available' | 'forgotten';

/** One snapshot in the catalog: an index entry of a snapshot stored in a repository. */
@Entity('snapshots')
export class SnapshotEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column('uuid', { name: 'repository_id' })
  repositoryId!: string;

  @ManyToOne(() => RepositoryEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'repository_id' })
  repository?: RepositoryEntity;

  /** The snapshot's id in its repository (64 hex digits). */
  @Column('text', { name: 'snapshot_id' })
  snapshotId!: string;

  /** The agent whose job made it; null when only found by a catalog sync. */
  @Column('text', { name: 'agent_name', nullable: true })
  agentName!: string | null;

  @Column('text')
  hostname!: string;

  @Column('text', { name: 'policy_name', nullable: true })
  policyName!: string | null;

  /** The job that made it (no foreign key: jobs are cleaned up, the catalog entry stays). */
  @Column('uuid', { name: 'job_id', nullable: true })
  jobId!: string | null;

  @Column('text', { name: 'source_kind' })
  sourceKind!: string;

  @Column('text', { array: true })
  paths!: string[];

  @Column('text', { array: true })
  tags!: string[];

  @Column('text', { name: 'parent_id', nullable: true })
  parentId!: string | null;

  @Column('timestamptz')
  time!: Date;

  @Column('bigint', { transformer: bigintAsNumber })
  files!: number;

  @Column('bigint', { name: 'bytes_read', transformer: bigintAsNumber })
  bytesRead!: number;

  @Column('bigint', { name: 'bytes_new', transformer: bigintAsNumber })
  bytesNew!: number;

  @Column('bigint', { name: 'bytes_stored', transformer: bigintAsNumber })
  bytesStored!: number;

  @Column('double precision', { name: 'duration_seconds' })
  durationSeconds!: number;

  @Column('text', { default: 'available' })
  status!: SnapshotStatus;

  @Column('timestamptz', { name: 'recorded_at', default: () => 'now()' })
  recordedAt!: Date;
}
