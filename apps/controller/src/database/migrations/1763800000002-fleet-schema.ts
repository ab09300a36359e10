import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The fleet side: join tokens, agents, jobs with their transitions, and the scheduler's
 * per-schedule cursor. Owned by apps/controller/src/fleet; see the entities there.
 */
export class FleetSchema1763800000002 implements MigrationInterface {
  name = 'FleetSchema1763800000002';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE enrollment_tokens (
        id            text PRIMARY KEY CHECK (id ~ '^[0-9a-f]{16}$'),
        secret_hash   text NOT NULL,
        labels        jsonb NOT NULL DEFAULT '{}'::jsonb,
        uses_allowed  integer NOT NULL CHECK (uses_allowed > 0),
        uses_left     integer NOT NULL CHECK (uses_left >= 0 AND uses_left <= uses_allowed),
        expires_at    timestamptz NOT NULL,
        created_at    timestamptz NOT NULL DEFAULT now()
      )`);

    // An agent's name is unique among agents that are not revoked, so a host can enroll again
    // under its old name once the old identity is revoked. Revoked rows stay for history.
    // Presence (last_seen_at, status, health) is rewritten every few seconds per agent: no
    // index covers those columns and pages keep free room (fillfactor), so the updates are
    // HOT and the table does not bloat between vacuums.
    await runner.query(`
      CREATE TABLE agents (
        id                  uuid PRIMARY KEY,
        name                text NOT NULL,
        labels              jsonb NOT NULL DEFAULT '{}'::jsonb,
        cert_fingerprint    text NOT NULL UNIQUE,
        cert_not_after      timestamptz NOT NULL,
        hostname            text,
        version             text,
        health              jsonb,
        last_seen_at        timestamptz,
        status              text NOT NULL DEFAULT 'offline' CHECK (status IN ('online', 'offline', 'revoked')),
        enrolled_at         timestamptz NOT NULL DEFAULT now(),
        revoked_at          timestamptz,
        enrollment_token_id text
      ) WITH (fillfactor = 50)`);
    await runner.query(`CREATE UNIQUE INDEX agents_live_name ON agents (name) WHERE revoked_at IS NULL`);

    await runner.query(`
      CREATE TABLE jobs (
        id                     uuid PRIMARY KEY,
        kind                   text NOT NULL CHECK (kind IN ('backup', 'restore', 'forget', 'prune', 'check')),
        status                 text NOT NULL CHECK (status IN ('queued', 'dispatched', 'running', 'succeeded', 'failed', 'cancelled', 'timed_out', 'missed')),
        trigger                text NOT NULL CHECK (trigger IN ('schedule', 'manual', 'retry', 'retention', 'prune', 'restore')),
        policy_id              uuid,
        policy_name            text,
        agent_id               uuid NOT NULL REFERENCES agents (id),
        repository_name        text NOT NULL,
        schedule_key           text,
        scheduled_for          timestamptz NOT NULL,
        start_deadline         timestamptz NOT NULL,
        start_deadline_seconds integer NOT NULL,
        late                   boolean NOT NULL DEFAULT false,
        timeout_seconds        integer NOT NULL DEFAULT 0,
        attempt                integer NOT NULL DEFAULT 1 CHECK (attempt >= 1),
        max_attempts           integer NOT NULL DEFAULT 1 CHECK (max_attempts >= 1),
        retry_backoff_seconds  integer NOT NULL DEFAULT 0,
        max_jobs_per_agent     integer,
        retry_of               uuid REFERENCES jobs (id),
        spec                   jsonb NOT NULL,
        progress               jsonb,
        log                    jsonb NOT NULL DEFAULT '[]'::jsonb,
        error                  text,
        snapshot_ids           text[] NOT NULL DEFAULT '{}',
        result                 jsonb,
        cancel_requested_at    timestamptz,
        created_at             timestamptz NOT NULL DEFAULT now(),
        dispatched_at          timestamptz,
        started_at             timestamptz,
        finished_at            timestamptz
      )`);
    // A scheduled run exists at most once per agent, even with several controllers ticking.
    await runner.query(
      `CREATE UNIQUE INDEX jobs_schedule_run ON jobs (policy_id, schedule_key, scheduled_for, agent_id) WHERE schedule_key IS NOT NULL`,
    );
    await runner.query(`CREATE INDEX jobs_queued ON jobs (scheduled_for) WHERE status = 'queued'`);
    await runner.query(`CREATE INDEX jobs_active ON jobs (agent_id) WHERE status IN ('dispatched', 'running')`);
    await runner.query(`CREATE INDEX jobs_created ON jobs (created_at DESC)`);
    await runner.query(`CREATE INDEX jobs_agent_created ON jobs (agent_id, created_at DESC)`);
    await runner.query(`CREATE INDEX jobs_policy_created ON jobs (policy_name, created_at DESC)`);

    await runner.query(`
      CREATE TABLE job_transitions (
        id      bigserial PRIMARY KEY,
        job_id  uuid NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
        status  text NOT NULL,
        at      timestamptz NOT NULL,
        reason  text
      )`);
    await runner.query(`CREATE INDEX job_transitions_job ON job_transitions (job_id, id)`);

    await runner.query(`
      CREATE TABLE schedule_state (
        policy_id     uuid NOT NULL,
        schedule_key  text NOT NULL,
        last_fired_at timestamptz NOT NULL,
        updated_at    timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (policy_id, schedule_key)
      )`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DROP TABLE IF EXISTS schedule_state`);
    await runner.query(`DROP TABLE IF EXISTS job_transitions`);
    await runner.query(`DROP TABLE IF EXISTS jobs`);
    await runner.query(`DROP TABLE IF EXISTS agents`);
    await runner.query(`DROP TABLE IF EXISTS enrollment_tokens`);
  }
}
