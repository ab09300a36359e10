import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type { AgentView, CatalogSnapshotView, CreatedJoinToken, JobDetailView, JobView } from '@coffer/contracts';
import { formatJoinToken, parseJoinToken } from '@coffer/contracts';
import { createTestDatabaseOrSkip, RunningController, startController, TestDatabase } from '../test-support/controller-process';
import { connectWithoutCertificate, sampleHealth, ScriptedAgent } from '../test-support/scripted-agent';

/*
 * The fleet side against REAL processes: the built controller on a fresh PostgreSQL
 * database, and scripted agents speaking real gRPC over (mutual) TLS. The tests run in
 * order and share the controller; the last one kills it with SIGKILL and starts it again
 * on the same data dir and database.
 */

const ENV = { COFFER_HEARTBEAT_INTERVAL: '1s', COFFER_OFFLINE_AFTER_MISSED: '2' };
const REPOSITORY_PASSWORD = `repo-pw-${randomBytes(9).toString('base64url')}`;

let database: TestDatabase | undefined;
let controller: RunningController | undefined;
let token = '';
let repositoryDir = '';
const agents: ScriptedAgent[] = [];

/** Polls `probe` until it returns a value (not undefined), or fails after `timeoutMs`. */
async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function live(): RunningController {
  if (!controller) throw new Error('no controller');
  return controller;
}

async function api<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  return live().api<T>(method, path, body, token);
}

async function createToken(body: Record<string, unknown>): Promise<CreatedJoinToken> {
  const response = await api<CreatedJoinToken>('POST', '/api/v1/tokens', body);
  expect(response.status).toBe(201);
  return response.body;
}

async function enroll(name: string, labels: Record<string, string>): Promise<ScriptedAgent> {
  const created = await createToken({ labels });
  const agent = await ScriptedAgent.enroll({ grpcAddress: live().grpcAddress, token: created.token, name });
  agents.push(agent);
  return agent;
}

async function jobDetail(id: string): Promise<JobDetailView> {
  const response = await api<JobDetailView>('GET', `/api/v1/jobs/${id}`);
  expect(response.status).toBe(200);
  return response.body;
}

function snapshotSummary(id: string, host: string, policy: string) {
  return {
    id,
    timeUnixMs: Date.now() - 2000,
    hostname: host,
    sourceKind: 'files',
    paths: ['/srv/www'],
    tags: [`policy=${policy}`],
    parentId: '',
    files: 3,
    bytesRead: 3000,
    bytesNew: 1000,
    bytesStored: 800,
    durationSeconds: 1.5,
  };
}

function grpcError(code: grpc.status, details: string) {
  return expect.objectContaining({ code, details });
}

beforeAll(async () => {
  database = await createTestDatabaseOrSkip();
  if (!database) return;
  controller = await startController({ databaseUrl: database.url, env: ENV });
  token = await controller.login();
  repositoryDir = mkdtempSync(join(tmpdir(), 'coffer-fleet-repo-'));
  const repository = await api('POST', '/api/v1/repositories', { name: 'main', url: repositoryDir, password: REPOSITORY_PASSWORD, initialize: true });
  expect(repository.status).toBe(201);
});

afterAll(async () => {
  for (const agent of agents) agent.close();
  await controller?.stop().catch(() => controller?.kill());
  await database?.drop();
  if (repositoryDir) rmSync(repositoryDir, { recursive: true, force: true });
});

/** Skips (with the reason printed by createTestDatabaseOrSkip) when there is no PostgreSQL and skipping is allowed. */
const test = (name: string, body: () => Promise<void>) => it(name, async () => (database ? body() : undefined));

describe('fleet: enrollment, streams, jobs (real controller process)', () => {
  test('validates join token requests', async () => {
    for (const body of [{ ttl: 'soon' }, { ttl: '0s' }, { uses: 0 }, { uses: 1.5 }, { labels: { 'bad key!': 'x' } }, { extra: true }]) {
      const response = await api<{ error: { code: string; message: string } }>('POST', '/api/v1/tokens', body);
      expect(response.status).toBe(400);
      expect(response.body.error.code).toBe('invalid_request');
    }
    const listed = await api<unknown[]>('GET', '/api/v1/tokens');
    expect(listed.status).toBe(200);
  });

  test('enrolls with a join token and refuses reused, expired and unknown tokens with their exact messages', async () => {
    const created = await createToken({ labels: { role: 'web', zone: 'a' } });
    const grpcAddress = live().grpcAddress;
    const web = await ScriptedAgent.enroll({ grpcAddress, token: created.token, name: 'web-1', labels: { zone: 'b', extra: 'yes' } });
    agents.push(web);
    expect(web.identity.name).toBe('web-1');
    expect(web.identity.labels).toEqual({ role: 'web', zone: 'a', extra: 'yes' }); // the token's labels win

    await expect(ScriptedAgent.enroll({ grpcAddress, token: created.token, name: 'web-9' })).rejects.toEqual(
      grpcError(grpc.status.UNAUTHENTICATED, 'join token has already been used'),
    );

    const shortLived = await createToken({ ttl: '1s' });
    const expiresAt = new Date(shortLived.expiresAt).getTime();
    await waitFor('the token to expire', async () => (Date.now() > expiresAt + 50 ? true : undefined), 5_000);
    await expect(ScriptedAgent.enroll({ grpcAddress, token: shortLived.token, name: 'web-9' })).rejects.toEqual(
      grpcError(grpc.status.UNAUTHENTICATED, `join token expired at ${shortLived.expiresAt}`),
    );

    const unknown = formatJoinToken({ ...parseJoinToken(created.token)!, id: randomBytes(8).toString('hex') });
    await expect(ScriptedAgent.enroll({ grpcAddress, token: unknown, name: 'web-9' })).rejects.toEqual(
      grpcError(grpc.status.UNAUTHENTICATED, 'join token is unknown'),
    );

    const another = await createToken({});
    await expect(ScriptedAgent.enroll({ grpcAddress, token: another.token, name: 'web-1' })).rejects.toEqual(
      expect.objectContaining({ code: grpc.status.ALREADY_EXISTS, details: expect.stringContaining('"web-1" is already taken') }),
    );
    // The refused enrollment did not use the token up.
    agents.push(await ScriptedAgent.enroll({ grpcAddress, token: another.token, name: 'spare-1' }));
  });

  test('refuses Connect without a client certificate', async () => {
    const end = await connectWithoutCertificate(live().grpcAddress, agents[0].identity.caCertificatePem);
    expect(end.code).toBe(grpc.status.UNAUTHENTICATED);
  });

  test('heartbeats make an agent online with its health visible; silence makes it offline', async () => {
    const web = agents.find((agent) => agent.name === 'web-1')!;
    const welcome = await web.connect();
    expect(welcome).toMatchObject({ heartbeatIntervalSeconds: 1, agentId: web.identity.agentId, name: 'web-1', labels: web.identity.labels });

    web.heartbeat({ health: sampleHealth('web-1', { agentRssBytes: 123_456_789, loadAverage: [1.5, 1, 0.5] }) });
    const online = await waitFor('web-1 online with its health', async () => {
      const { body } = await api<AgentView>('GET', '/api/v1/agents/web-1');
      return body.status === 'online' && body.health?.agentRssBytes === 123_456_789 ? body : undefined;
    });
    expect(online.health).toMatchObject({ hostname: 'web-1', os: 'linux 6.1.0-test', loadAverage: [1.5, 1, 0.5] });
    expect(online.lastSeenAt).not.toBeNull();
    const list = await api<AgentView[]>('GET', '/api/v1/agents');
    expect(list.body.find((agent) => agent.name === 'web-1')?.status).toBe('online');

    // Stream open, but silent: offline after 2 missed 1 s heartbeats.
    await waitFor('web-1 offline', async () => ((await api<AgentView>('GET', '/api/v1/agents/web-1')).body.status === 'offline' ? true : undefined));
    web.heartbeat();
    await waitFor('web-1 online again', async () => ((await api<AgentView>('GET', '/api/v1/agents/web-1')).body.status === 'online' ? true : undefined));
  });

  test('a policy run reaches the agent with the repository password, never shown by the API; its result is recorded once', async () => {
    const web = agents.find((agent) => agent.name === 'web-1')!;
    const policy = await api('PUT', '/api/v1/policies/web', {
      selector: { role: 'web' },
      repository: 'main',
      sources: [{ files: { paths: ['/srv/www'] } }],
      timeout: '1h',
    });
    expect([200, 201]).toContain(policy.status);

    const mismatch = await api<{ error: { code: string } }>('POST', '/api/v1/policies/web/run', { agent: 'spare-1' });
    expect(mismatch.status).toBe(422);

    const run = await api<JobView[]>('POST', '/api/v1/policies/web/run', {});
    expect(run.status).toBe(201);
    expect(run.body).toHaveLength(1);
    const [queued] = run.body;
    expect(queued).toMatchObject({ kind: 'backup', policy: 'web', agent: 'web-1', repository: 'main', trigger: 'manual' });

    const runJob = await web.nextRunJob();
    expect(runJob).toMatchObject({ jobId: queued.id, kind: 'JOB_KIND_BACKUP', attempt: 1, timeoutSeconds: 3600 });
    expect(runJob.repository).toMatchObject({ name: 'main', url: repositoryDir, password: REPOSITORY_PASSWORD });
    expect(runJob.backup).toMatchObject({ policyName: 'web', sources: [{ files: { paths: ['/srv/www'] } }] });

    web.accepted(queued.id);
    web.progress(queued.id, { bytesDone: 4242 });
    const running = await waitFor('the job running with progress', async () => {
      const job = await jobDetail(queued.id);
      return job.status === 'running' && job.progress?.bytesDone === 4242 ? job : undefined;
    });
    expect(running.startedAt).not.toBeNull();
    for (const path of [`/api/v1/jobs/${queued.id}`, '/api/v1/jobs', '/api/v1/jobs?agent=web-1&status=running']) {
      expect(JSON.stringify((await api('GET', path)).body)).not.toContain(REPOSITORY_PASSWORD);
    }

    const snapshotId = randomBytes(32).toString('hex');
    const finished = { snapshots: [snapshotSummary(snapshotId, 'web-1', 'web')], log: ['scanned 3 files'] };
    web.finished(queued.id, 'JOB_OUTCOME_SUCCEEDED', finished);
    await web.nextAck(queued.id);

    const done = await jobDetail(queued.id);
    expect(done).toMatchObject({ status: 'succeeded', snapshotIds: [snapshotId], error: null, log: ['scanned 3 files'] });
    expect(done.transitions.map((transition) => transition.status)).toEqual(['queued', 'dispatched', 'running', 'succeeded']);
    const snapshots = await api<CatalogSnapshotView[]>('GET', '/api/v1/snapshots');
    expect(snapshots.body.filter((snapshot) => snapshot.id === snapshotId)).toEqual([
      expect.objectContaining({ repository: 'main', agent: 'web-1', policy: 'web', jobId: queued.id, status: 'available' }),
    ]);

    // The same result again (e.g. the ack was lost): acknowledged, not recorded twice.
    web.finished(queued.id, 'JOB_OUTCOME_SUCCEEDED', finished);
    await web.nextAck(queued.id);
    const again = await jobDetail(queued.id);
    expect(again.transitions.filter((transition) => transition.status === 'succeeded')).toHaveLength(1);
    expect((await api<CatalogSnapshotView[]>('GET', '/api/v1/snapshots')).body.filter((snapshot) => snapshot.id === snapshotId)).toHaveLength(1);

    expect(live().output()).not.toContain(REPOSITORY_PASSWORD);
  });

  test('cancelling: a queued job at once, a running one through the agent, a finished one is a conflict', async () => {
    // spare-1 is enrolled but not connected: its job stays queued.
    expect((await api('PUT', '/api/v1/policies/everywhere', { selector: {}, repository: 'main', sources: [{ files: { paths: ['/etc'] } }] })).status).toBeLessThan(300);
    const [queued] = (await api<JobView[]>('POST', '/api/v1/policies/everywhere/run', { agent: 'spare-1' })).body;
    expect(queued).toMatchObject({ agent: 'spare-1', status: 'queued' });
    const cancelledAtOnce = await api<JobView>('POST', `/api/v1/jobs/${queued.id}/cancel`);
    expect(cancelledAtOnce.body).toMatchObject({ id: queued.id, status: 'cancelled' });

    const web = agents.find((agent) => agent.name === 'web-1')!;
    const [job] = (await api<JobView[]>('POST', '/api/v1/policies/web/run', {})).body;
    await web.nextRunJob(15_000, job.id);
    web.accepted(job.id);
    await waitFor('running', async () => ((await jobDetail(job.id)).status === 'running' ? true : undefined));

    const asked = await api<JobView>('POST', `/api/v1/jobs/${job.id}/cancel`);
    expect(asked.status).toBe(200);
    const cancel = await web.nextCancel();
    expect(cancel.jobId).toBe(job.id);
    web.finished(job.id, 'JOB_OUTCOME_CANCELLED', { errorMessage: 'cancelled on request' });
    await web.nextAck(job.id);
    expect((await jobDetail(job.id)).status).toBe('cancelled');

    const conflict = await api<{ error: { code: string } }>('POST', `/api/v1/jobs/${job.id}/cancel`);
    expect(conflict.status).toBe(409);
    expect(conflict.body.error.code).toBe('already_finished');
  });

  test('revoking ends the open stream with PERMISSION_DENIED and the agent is refused from then on', async () => {
    const spare = agents.find((agent) => agent.name === 'spare-1')!;
    await spare.connect();
    const revoked = await api<AgentView>('POST', '/api/v1/agents/spare-1/revoke');
    expect(revoked.status).toBe(200);
    expect(revoked.body.status).toBe('revoked');
    expect(await spare.ended()).toEqual({ code: grpc.status.PERMISSION_DENIED, details: 'agent spare-1 has been revoked' });
    await expect(spare.connect()).rejects.toEqual(grpcError(grpc.status.PERMISSION_DENIED, 'agent spare-1 has been revoked'));
    expect((await api<AgentView>('GET', '/api/v1/agents/spare-1')).body.status).toBe('revoked');
  });

  test('the scheduler fires each due time once per matching agent; jobs of an offline agent fail after the start deadline', async () => {
    await enroll('tick-1', { role: 'ticker' }); // enrolled, never connected
    const ticker = await api('PUT', '/api/v1/policies/ticker', {
      selector: { role: 'ticker' },
      repository: 'main',
      sources: [{ files: { paths: ['/etc'] } }],
      schedules: [{ cron: '* * * * * *' }],
      startDeadline: '1s',
    });
    expect(ticker.status).toBeLessThan(300);

    const jobs = await waitFor('three scheduled runs', async () => {
      const { body } = await api<JobView[]>('GET', '/api/v1/jobs?policy=ticker&limit=1000');
      return body.length >= 3 ? body : undefined;
    });
    for (const job of jobs) {
      expect(job).toMatchObject({ kind: 'backup', trigger: 'schedule', agent: 'tick-1', late: false });
      expect(new Date(job.scheduledFor).getUTCMilliseconds()).toBe(0);
    }
    expect(new Set(jobs.map((job) => job.scheduledFor)).size).toBe(jobs.length);

    const failed = await waitFor('a ticker job failed as agent offline', async () => {
      const { body } = await api<JobView[]>('GET', '/api/v1/jobs?policy=ticker&status=failed');
      return body[0];
    });
    expect(failed.error).toBe('agent offline: tick-1 has not been connected since it enrolled');
  });

  test('a controller killed while a backup runs re-sends RunJob on reconnect; the single JobFinished yields one success', async () => {
    const db = await enroll('db-1', { role: 'db' });
    await db.connect();
    expect((await api('PUT', '/api/v1/policies/db', { selector: { role: 'db' }, repository: 'main', sources: [{ command: { run: 'pg_dumpall', filename: 'all.sql' } }] })).status).toBeLessThan(300);
    const [job] = (await api<JobView[]>('POST', '/api/v1/policies/db/run', {})).body;
    await db.nextRunJob(15_000, job.id);
    db.accepted(job.id);
    await waitFor('running', async () => ((await jobDetail(job.id)).status === 'running' ? true : undefined));

    const first = live();
    await first.kill(); // SIGKILL: no shutdown hooks, the stream just breaks
    expect((await db.ended()).code).not.toBe(grpc.status.OK);

    // The backup finishes on the agent while the controller is down; the result waits in its outbox.
    controller = await startController({ databaseUrl: database!.url, dataDir: first.dataDir, adminPassword: first.adminPassword, env: ENV });
    token = await live().login();
    expect((await jobDetail(job.id)).status).toBe('running'); // boot leaves it alone

    const reconnected = new ScriptedAgent(live().grpcAddress, db.identity);
    agents.push(reconnected);
    await reconnected.connect({ runningJobIds: [] }); // not running any more: it finished
    const resent = await reconnected.nextRunJob(15_000, job.id);
    expect(resent.repository?.password).toBe(REPOSITORY_PASSWORD);

    // The agent answers the repeated RunJob from its outbox: one JobFinished.
    const snapshotId = randomBytes(32).toString('hex');
    reconnected.finished(job.id, 'JOB_OUTCOME_SUCCEEDED', { snapshots: [snapshotSummary(snapshotId, 'db-1', 'db')] });
    await reconnected.nextAck(job.id);

    const done = await jobDetail(job.id);
    expect(done.status).toBe('succeeded');
    expect(done.transitions.map((transition) => transition.status)).toEqual(['queued', 'dispatched', 'running', 'succeeded']);
    const snapshots = (await api<CatalogSnapshotView[]>('GET', '/api/v1/snapshots?agent=db-1')).body;
    expect(snapshots.map((snapshot) => [snapshot.id, snapshot.jobId])).toEqual([[snapshotId, job.id]]);
    const succeeded = (await api<JobView[]>('GET', '/api/v1/jobs?policy=db&status=succeeded')).body;
    expect(succeeded.map((view) => view.id)).toEqual([job.id]);
  });

  test('scheduled runs that fell into the outage are recorded as missed, never run twice', async () => {
    // An outage longer than the ticker's 1 s start window, whatever the machine's speed:
    // the restart in the test above may be quicker than that.
    const first = live();
    await first.kill();
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    controller = await startController({ databaseUrl: database!.url, dataDir: first.dataDir, adminPassword: first.adminPassword, env: ENV });
    token = await live().login();
    const missed = await waitFor('a missed ticker run', async () => {
      const { body } = await api<JobView[]>('GET', '/api/v1/jobs?policy=ticker&status=missed&limit=1000');
      return body.length > 0 ? body : undefined;
    });
    for (const job of missed) expect(job.error).toMatch(/^missed: the controller was not running between /);
    const all = (await api<JobView[]>('GET', '/api/v1/jobs?policy=ticker&limit=1000')).body;
    expect(new Set(all.map((job) => job.scheduledFor)).size).toBe(all.length);
    // Stop the ticking.
    const off = await api('PUT', '/api/v1/policies/ticker', {
      enabled: false,
      selector: { role: 'ticker' },
      repository: 'main',
      sources: [{ files: { paths: ['/etc'] } }],
      schedules: [{ cron: '* * * * * *' }],
      startDeadline: '1s',
    });
    expect(off.status).toBeLessThan(300);
  });
});
