/*
 * Databases through the control plane, with real processes only: a controller, two agents
 * and the CLI against the machine's PostgreSQL. A policy with a postgres source backs up a
 * real database on agent A; agent B restores it into a new database; the rows are compared;
 * `coffer verify` checks the snapshot; preflight, hook and secret failures fail the job
 * without a snapshot and with their message.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import type { AgentView, CatalogSnapshotView, JobDetailView, JobView } from '@coffer/contracts';
import { createTestDatabase, RunningController, startController } from '../../controller/src/test-support/controller-process';
import { AgentProcess, CofferCli, e2eTempDir, removeTree, waitFor } from './support/fleet-processes';

const ADMIN_PASSWORD = 'e2e-admin-password-db';
const FAST_CLOCKS = { COFFER_HEARTBEAT_INTERVAL: '1s', COFFER_OFFLINE_AFTER_MISSED: '3', COFFER_SCHEDULER_TICK: '250ms' };
const PG_SERVER = process.env.TEST_PG_SOURCE_URL || 'postgres://root@127.0.0.1:5432';
const DB_SECRET_VALUE = 'not-a-real-pg-password-9f3e';

async function sql<T = Record<string, unknown>>(database: string, text: string): Promise<T[]> {
  const client = new Client({ connectionString: `${PG_SERVER}/${database}`, connectionTimeoutMillis: 5_000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return (await client.query(text)).rows as T[];
  } finally {
    await client.end();
  }
}

/** Row count and md5 of every row in primary-key order, per table. */
async function fingerprint(database: string): Promise<Record<string, { rows: number; md5: string }>> {
  const tables = ['public.customers', 'public.orders', 'billing.invoices'];
  const result: Record<string, { rows: number; md5: string }> = {};
  for (const table of tables) {
    const [row] = await sql<{ rows: string; md5: string }>(database, `SELECT count(*) AS rows, md5(coalesce(string_agg(t::text, '|' ORDER BY t.id), '')) AS md5 FROM ${table} t`);
    result[table] = { rows: Number(row.rows), md5: row.md5 };
  }
  return result;
}

describe('database backups, restores and verifies through the controller', () => {
  const suffix = randomBytes(4).toString('hex');
  const sourceDb = `coffer_e2e_src_${suffix}`;
  const copyDb = `coffer_e2e_copy_${suffix}`;
  let work: string;
  let database: { url: string; drop(): Promise<void> } | undefined;
  let controller: RunningController;
  let cli: CofferCli;
  const agents: AgentProcess[] = [];
  let snapshotId = '';
  let backupJobId = '';

  const applyPolicy = (name: string, lines: string[]): void => {
    const file = join(work, `${name}.yaml`);
    writeFileSync(file, [`name: ${name}`, 'selector: { role: db-a }', 'repository: main', ...lines].join('\n'));
    const applied = cli.run(['apply', '-f', file]);
    if (applied.status !== 0) throw new Error(`apply ${name} failed: ${applied.stderr}`);
  };
  const runPolicy = (name: string): { status: number | null; stderr: string; job: JobDetailView } => {
    const result = cli.run(['run', name, '--wait', '--json']);
    const [job] = JSON.parse(result.stdout) as JobDetailView[];
    return { status: result.status, stderr: result.stderr, job };
  };
  const snapshotsOf = (policy: string): CatalogSnapshotView[] => cli.json<CatalogSnapshotView[]>(['snapshots', '--policy', policy]);

  beforeAll(async () => {
    work = e2eTempDir('databases');
    await sql('postgres', `CREATE DATABASE ${sourceDb}`);
    await sql(
      sourceDb,
      `CREATE TABLE customers (id serial PRIMARY KEY, name text NOT NULL, balance numeric(12,2) NOT NULL, born date);
       CREATE TABLE orders (id bigserial PRIMARY KEY, customer_id int NOT NULL REFERENCES customers(id), amount numeric(10,2), note text);
       CREATE SCHEMA billing;
       CREATE TABLE billing.invoices (id int PRIMARY KEY, order_id bigint NOT NULL, payload jsonb);
       INSERT INTO customers (name, balance, born) SELECT 'customer ' || g, g * 1.25, date '1970-01-01' + g FROM generate_series(1, 300) g;
       INSERT INTO orders (customer_id, amount, note) SELECT 1 + g % 300, g * 0.5, CASE WHEN g % 7 = 0 THEN NULL ELSE 'n''' || g END FROM generate_series(1, 2000) g;
       INSERT INTO billing.invoices SELECT g, g, jsonb_build_object('n', g, 'tags', jsonb_build_array('a', g)) FROM generate_series(1, 500) g;`,
    );

    database = await createTestDatabase();
    controller = await startController({ databaseUrl: database.url, dataDir: join(work, 'controller'), adminPassword: ADMIN_PASSWORD, env: FAST_CLOCKS });
    cli = new CofferCli(join(work, 'cli-config'), controller.httpUrl);
    cli.login(ADMIN_PASSWORD);
    writeFileSync(join(work, 'repo-password'), 'db e2e repository password\n', { mode: 0o600 });
    const added = cli.run(['repos', 'add', 'main', '--url', join(work, 'repo'), '--password-file', join(work, 'repo-password'), '--init']);
    if (added.status !== 0) throw new Error(`repos add failed: ${added.stderr}`);

    const token = cli.run(['tokens', 'create', '--uses', '2']).stdout.trim();
    for (const [name, role] of [
      ['db-a', 'db-a'],
      ['db-b', 'db-b'],
    ]) {
      const dataDir = join(work, `agent-${name}`);
      const enrolled = await AgentProcess.enroll({ grpcAddress: controller.grpcAddress, token, dataDir, name, labels: `role=${role}` });
      if (enrolled.status !== 0) throw new Error(`enroll ${name} failed: ${enrolled.output}`);
      const agent = new AgentProcess(name, dataDir);
      agent.start();
      agents.push(agent);
    }
    await waitFor('both agents online', () => {
      const list = cli.json<AgentView[]>(['agents']);
      return ['db-a', 'db-b'].every((n) => list.find((a) => a.name === n)?.status === 'online');
    });
  }, 180_000);

  afterAll(async () => {
    for (const agent of agents) await agent.kill();
    await controller?.stop();
    await database?.drop();
    for (const name of [sourceDb, copyDb]) await sql('postgres', `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
    if (work) removeTree(work);
  }, 60_000);

  it('reports the restore tools in the agents’ health', () => {
    const agent = cli.json<AgentView[]>(['agents']).find((a) => a.name === 'db-a')!;
    const tools = agent.health!.tools.map((t) => t.name);
    expect(tools).toEqual(expect.arrayContaining(['pg_dump', 'pg_restore', 'psql', 'mariadb', 'redis-server']));
    expect(agent.health!.tools.find((t) => t.name === 'pg_restore')?.version).toMatch(/^\d+/);
  });

  it('backs up a PostgreSQL database on agent A, with the hooks’ output in the job log', () => {
    applyPolicy('pg-e2e', [
      'sources:',
      `  - postgres: { url: "${PG_SERVER}/${sourceDb}" }`,
      'hooks:',
      '  before: [{ run: "echo before-hook-says-hello", timeout: 1m }]',
      '  after: [{ run: "echo after-hook-status=$COFFER_STATUS" }]',
    ]);
    const { status, stderr, job } = runPolicy('pg-e2e');
    expect({ status, stderr, error: job.error }).toEqual({ status: 0, stderr: expect.any(String), error: null });
    expect(job.snapshotIds).toHaveLength(1);
    [snapshotId] = job.snapshotIds;
    backupJobId = job.id;

    const [snapshot] = snapshotsOf('pg-e2e');
    expect(snapshot).toMatchObject({ id: snapshotId, agent: 'db-a', hostname: 'db-a', sourceKind: 'postgres', paths: [`${PG_SERVER}/${sourceDb}`] });

    const shown = cli.run(['jobs', 'show', backupJobId]);
    expect(shown.status).toBe(0);
    expect(shown.stdout).toContain('before hook 1: before-hook-says-hello');
    expect(shown.stdout).toContain('after hook 1: after-hook-status=succeeded');
  });

  it('restores the snapshot on agent B into a new database, row for row', async () => {
    expect(snapshotId).not.toBe('');
    const restore = cli.run(['restore', snapshotId.slice(0, 12), '--agent', 'db-b', '--postgres', `${PG_SERVER}/${copyDb}`, '--wait']);
    expect({ status: restore.status, stderr: restore.stderr }).toEqual({ status: 0, stderr: expect.any(String) });
    expect(restore.stdout).toContain(`into ${PG_SERVER}/${copyDb}`);

    const original = await fingerprint(sourceDb);
    expect(original['public.orders'].rows).toBe(2000);
    expect(await fingerprint(copyDb)).toEqual(original);

    const jobs = cli.json<JobView[]>(['jobs', '--limit', '50']).filter((j) => j.kind === 'restore');
    const detail = cli.json<JobDetailView>(['jobs', 'show', jobs[0].id]);
    expect(detail).toMatchObject({ agent: 'db-b', status: 'succeeded', restore: { snapshotId, database: { postgres: { url: `${PG_SERVER}/${copyDb}` } } } });

    // A second restore into the now non-empty database is refused without --clean.
    const again = cli.run(['restore', snapshotId, '--agent', 'db-b', '--postgres', `${PG_SERVER}/${copyDb}`, '--wait']);
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/is not empty.*--clean/);
  });

  it('verifies the snapshot on the agent that took it', () => {
    const verify = cli.run(['verify', snapshotId, '--wait']);
    expect({ status: verify.status, stderr: verify.stderr }).toEqual({ status: 0, stderr: expect.any(String) });
    expect(verify.stdout).toContain('on agent db-a');
    expect(verify.stdout).toContain('verified');

    const onB = cli.json<JobDetailView>(['verify', snapshotId, '--agent', 'db-b', '--wait']);
    expect(onB).toMatchObject({ kind: 'verify', agent: 'db-b', status: 'succeeded', verify: { snapshotId } });
    expect(onB.log.length).toBeGreaterThan(0);
  });

  it('refuses to verify a snapshot that is not a database backup', () => {
    const dir = join(work, 'some-files');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'a.txt'), 'a\n');
    applyPolicy('files-e2e', ['sources:', `  - files: { paths: ["${dir}"] }`]);
    const { job } = runPolicy('files-e2e');
    expect(job.status).toBe('succeeded');
    const verify = cli.run(['verify', job.snapshotIds[0]]);
    expect(verify.status).toBe(1);
    expect(verify.stderr).toContain(`snapshot ${job.snapshotIds[0].slice(0, 8)} is not a database backup; use check --read-data`);
  });

  it('fails a backup of a database that does not exist with the preflight message, and writes no snapshot', () => {
    applyPolicy('pg-missing', ['sources:', `  - postgres: { url: "${PG_SERVER}/coffer_e2e_missing_${suffix}" }`]);
    const { status, job } = runPolicy('pg-missing');
    expect(status).toBe(1);
    expect(job.status).toBe('failed');
    expect(job.error).toContain(`database "coffer_e2e_missing_${suffix}" does not exist`);
    expect(job.snapshotIds).toEqual([]);
    expect(snapshotsOf('pg-missing')).toEqual([]);
  });

  it('fails the job without a snapshot when a "before" hook fails, with its output in the job log', () => {
    applyPolicy('pg-hook-fails', [
      'sources:',
      `  - postgres: { url: "${PG_SERVER}/${sourceDb}" }`,
      'hooks:',
      '  before: [{ run: "echo stopping-the-app-failed >&2; exit 1", onFailure: fail }]',
      '  after: [{ run: "echo after-ran-with=$COFFER_STATUS" }]',
    ]);
    const { status, job } = runPolicy('pg-hook-fails');
    expect(status).toBe(1);
    expect(job.status).toBe('failed');
    expect(job.error).toMatch(/^before hook 1.*onFailure: fail/);
    expect(job.snapshotIds).toEqual([]);
    expect(snapshotsOf('pg-hook-fails')).toEqual([]);
    const shown = cli.run(['jobs', 'show', job.id]);
    expect(shown.stdout).toContain('before hook 1: stopping-the-app-failed');
    expect(shown.stdout).toContain('after hook 1: after-ran-with=failed');
  });

  it('sends a passwordSecret only inside the job, and fails a job naming a missing secret', () => {
    const secretFile = join(work, 'pg.pass');
    writeFileSync(secretFile, DB_SECRET_VALUE + '\n', { mode: 0o600 });
    const set = cli.run(['secrets', 'set', 'pg-e2e-pass', '--from-file', secretFile]);
    expect({ status: set.status, stderr: set.stderr }).toEqual({ status: 0, stderr: '' });
    const listed = cli.run(['secrets', 'list', '--json']);
    expect(JSON.parse(listed.stdout)).toEqual([expect.objectContaining({ name: 'pg-e2e-pass' })]);

    // Trust authentication ignores the password: the backup works, and the value shows nowhere.
    applyPolicy('pg-secret', ['sources:', `  - postgres: { url: "${PG_SERVER}/${sourceDb}", passwordSecret: pg-e2e-pass }`]);
    const ok = runPolicy('pg-secret');
    expect({ status: ok.job.status, error: ok.job.error }).toEqual({ status: 'succeeded', error: null });
    const everything = [listed.stdout, JSON.stringify(ok.job), cli.run(['policies', 'show', 'pg-secret', '--json']).stdout, controller.output(), ...agents.map((a) => a.output())].join('\n');
    expect(everything).not.toContain(DB_SECRET_VALUE);

    applyPolicy('pg-no-secret', ['sources:', `  - postgres: { url: "${PG_SERVER}/${sourceDb}", passwordSecret: no-such-secret }`]);
    const missing = runPolicy('pg-no-secret');
    expect({ status: missing.job.status, error: missing.job.error }).toEqual({ status: 'failed', error: 'secret no-such-secret does not exist' });

    expect(cli.run(['secrets', 'remove', 'pg-e2e-pass']).status).toBe(0);
    expect(cli.run(['secrets', 'remove', 'pg-e2e-pass']).stderr).toContain('secret "pg-e2e-pass" does not exist');
  });

  it('refuses bad restore, verify and secret requests with a message, never a stack', () => {
    const withPassword = cli.run(['restore', snapshotId, '--agent', 'db-b', '--postgres', 'postgres://root:hunter2@127.0.0.1/x']);
    expect(withPassword.status).toBe(1);
    expect(withPassword.stderr).toContain('database.postgres.url: must not carry a password');
    const wrongKind = cli.run(['restore', snapshotId, '--agent', 'db-b', '--mysql', 'mysql://root@127.0.0.1:3306/x']);
    expect(wrongKind.stderr).toContain('holds a PostgreSQL backup; it cannot be restored into MariaDB/MySQL');
    const unknownAgent = cli.run(['restore', snapshotId, '--agent', 'nobody', '--postgres', `${PG_SERVER}/x`]);
    expect(unknownAgent.stderr).toContain('agent "nobody" does not exist');
    expect(cli.run(['verify', 'ffffffff']).stderr).toContain('no snapshot ffffffff in the catalog');
    expect(cli.run(['verify', snapshotId, '--repo', 'other']).stderr).toContain('of repository "other"');
    const badName = cli.run(['secrets', 'set', 'Bad_Name', '--from-file', join(work, 'repo-password')]);
    expect(badName.status).toBe(1);
    expect(badName.stderr).toContain('"Bad_Name" is not a secret name');
    for (const run of [withPassword, wrongKind, unknownAgent, badName]) expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('refuses a database URL with a password in a policy, naming the field', () => {
    const file = join(work, 'bad-url.yaml');
    writeFileSync(file, ['name: bad-url', 'selector: {}', 'repository: main', 'sources:', '  - postgres: { url: "postgres://root:hunter2@127.0.0.1/x" }'].join('\n'));
    const result = cli.run(['apply', '-f', file]);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/sources\.0\.postgres\.url: must not carry a password/);
  });
});
