import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The catalog side's tables: people and their API tokens, registered repositories (secrets
 * encrypted with the master key), policies and the snapshot catalog. The fleet schema
 * (1763800000002) references repositories(id) and policies(id).
 */
export class CatalogSchema1763800000001 implements MigrationInterface {
  name = 'CatalogSchema1763800000001';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE users (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL UNIQUE,
        password_hash text NOT NULL,
        role text NOT NULL DEFAULT 'admin',
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`
      CREATE TABLE api_tokens (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        token_hash text NOT NULL UNIQUE,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        last_used_at timestamptz
      )`);
    await queryRunner.query(`CREATE INDEX api_tokens_user_id ON api_tokens (user_id)`);
    await queryRunner.query(`
      CREATE TABLE repositories (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL UNIQUE,
        url text NOT NULL,
        secret_ciphertext bytea NOT NULL,
        environment_keys text[] NOT NULL DEFAULT '{}',
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`
      CREATE TABLE policies (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL UNIQUE,
        document jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`
      CREATE TABLE snapshots (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        repository_id uuid NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
        snapshot_id text NOT NULL,
        agent_name text,
        hostname text NOT NULL,
        policy_name text,
        job_id uuid,
        source_kind text NOT NULL,
        paths text[] NOT NULL DEFAULT '{}',
        tags text[] NOT NULL DEFAULT '{}',
        parent_id text,
        time timestamptz NOT NULL,
        files bigint NOT NULL DEFAULT 0,
        bytes_read bigint NOT NULL DEFAULT 0,
        bytes_new bigint NOT NULL DEFAULT 0,
        bytes_stored bigint NOT NULL DEFAULT 0,
        duration_seconds double precision NOT NULL DEFAULT 0,
        status text NOT NULL DEFAULT 'available' CHECK (status IN ('available', 'forgotten')),
        recorded_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (repository_id, snapshot_id)
      )`);
    await queryRunner.query(`CREATE INDEX snapshots_time ON snapshots (time DESC)`);
    // Restores name snapshots by id prefix across repositories.
    await queryRunner.query(`CREATE INDEX snapshots_snapshot_id_prefix ON snapshots (snapshot_id text_pattern_ops)`);
    await queryRunner.query(`CREATE INDEX snapshots_agent_name ON snapshots (agent_name)`);
    await queryRunner.query(`CREATE INDEX snapshots_policy_name ON snapshots (policy_name)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE snapshots`);
    await queryRunner.query(`DROP TABLE policies`);
    await queryRunner.query(`DROP TABLE repositories`);
    await queryRunner.query(`DROP TABLE api_tokens`);
    await queryRunner.query(`DROP TABLE users`);
  }
}
