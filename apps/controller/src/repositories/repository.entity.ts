import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

/** A registered repository. Its password and storage credentials are sealed with the master key. */
@Entity('repositories')
export class RepositoryEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column('text', { unique: true })
  name!: string;

  @Column('text')
  url!: string;

  /** SecretBox-sealed JSON `{ password, environment }`, with the repository name as context. */
  @Column('bytea', { name: 'secret_ciphertext' })
  secretCiphertext!: Buffer;

  /** Names of the storage credential variables (the values are in the sealed secret). */
  @Column('text', { name: 'environment_keys', array: true, default: () => "'{}'" })
  environmentKeys!: string[];

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
