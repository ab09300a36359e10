import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** A person who uses the API. */
@Entity('users')
export class UserEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column('text', { unique: true })
  name!: string;

  /** bcrypt hash. */
  @Column('text', { name: 'password_hash' })
  passwordHash!: string;

  /** "admin" for now; "operator" and "viewer" come with role checks. */
  @Column('text', { default: 'admin' })
  role!: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
