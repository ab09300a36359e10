import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Verify jobs (a database snapshot checked with the engine's tools) and the secret store
 * (database passwords named by policies and restores, sealed with the master key).
 */
export class DatabaseJobsAndSecrets1763800000003 implements MigrationInterface {
  name = 'DatabaseJobsAndSecrets1763800000003';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`ALTER TABLE jobs DROP CONSTRAINT jobs_kind_check`);
    await runner.query(`ALTER TABLE jobs ADD CONSTRAINT jobs_kind_check CHECK (kind IN ('backup', 'restore', 'forget', 'prune', 'check', 'verify'))`);
    await runner.query(`ALTER TABLE jobs DROP CONSTRAINT jobs_trigger_check`);
    await runner.query(`ALTER TABLE jobs ADD CONSTRAINT jobs_trigger_check CHECK (trigger IN ('schedule', 'manual', 'retry', 'retention', 'prune', 'restore', 'verify'))`);
    // The value is SecretBox-sealed with the secret's name as context; it never leaves the
    // controller except inside a RunJob, over mutual TLS, to the agent that needs it.
    await runner.query(`
      CREATE TABLE secrets (
        id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name        text NOT NULL UNIQUE,
        ciphertext  bytea NOT NULL,
        created_at  timestamptz NOT NULL DEFAULT now(),
        updated_at  timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DROP TABLE secrets`);
    await runner.query(`DELETE FROM jobs WHERE kind = 'verify' OR trigger = 'verify'`);
    await runner.query(`ALTER TABLE jobs DROP CONSTRAINT jobs_trigger_check`);
    await runner.query(`ALTER TABLE jobs ADD CONSTRAINT jobs_trigger_check CHECK (trigger IN ('schedule', 'manual', 'retry', 'retention', 'prune', 'restore'))`);
    await runner.query(`ALTER TABLE jobs DROP CONSTRAINT jobs_kind_check`);
    await runner.query(`ALTER TABLE jobs ADD CONSTRAINT jobs_kind_check CHECK (kind IN ('backup', 'restore', 'forget', 'prune', 'check'))`);
  }
}
