/**
 * `coffer-agent` as an operator meets it: the built binary in child processes, a real gRPC
 * controller (test-support/fake-controller.ts, with its own CA) in this process, real
 * repositories in temp dirs. Build first: `npx tsc -b apps/agent/tsconfig.lib.json`.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { agentV1 } from '@coffer/contracts';
import { Repository } from '@coffer/repository';
import { openStorage } from '@coffer/storage';
import { AgentProcess, assertBuilt, runAgentCommand, TempDirs } from './test-support/agent-process';
import { FakeController, waitFor } from './test-support/fake-controller';
import { TestCa } from './test-support/test-pki';
import { AGENT_TOOLS } from './health/health-collector';

const PASSWORD = 'correct horse battery staple';
const FAST_SCRYPT = { N: 1024, r: 8, p: 1 };

const dirs = new TempDirs();
let controller: FakeController;
const agents: AgentProcess[] = [];

beforeAll(async () => {
  assertBuilt();
  controller = await FakeController.create({ heartbeatIntervalSeconds: 1 });
  await controller.start();
});

afterEach(async () => {
  await Promise.all(agents.splice(0).map((a) => a.stop()));
});

afterAll(async () => {
  await controller.stop();
  dirs.cleanup();
});

/** Enrolls a fresh agent into a fresh data dir. */
async function enrollAgent(name: string): Promise<{ dataDir: string; agentId: string }> {
  const dataDir = join(dirs.make('data'), 'agent');
  const run = await runAgentCommand(['enroll', '--controller', controller.address, '--token', controller.createToken({ env: 'test' }), '--data-dir', dataDir, '--name', name, '--labels', 'role=db']);
  if (run.status !== 0) throw new Error(`enroll failed (${run.status}): ${run.stderr}`);
  return { dataDir, agentId: JSON.parse(readFileSync(join(dataDir, 'agent.json'), 'utf8')).agentId };
}

/** Starts `coffer-agent run` and waits for its Hello. */
async function startAgent(dataDir: string, agentId: string): Promise<AgentProcess> {
  const before = controller.messages('hello').filter((h) => h.agentId === agentId).length;
  const agent = AgentProcess.start(dataDir);
  agents.push(agent);
  await waitFor(() => controller.messages('hello').filter((h) => h.agentId === agentId).length > before && controller.streams.has(agentId), `hello from ${agentId}\n${agent.stderr}`);
  return agent;
}

async function newRepository(): Promise<string> {
  const dir = join(dirs.make('repo'), 'repo');
  await Repository.init(openStorage(dir), PASSWORD, { scrypt: FAST_SCRYPT });
  return dir;
}

async function snapshotsIn(repoDir: string) {
  const storage = openStorage(repoDir);
  try {
    return await (await Repository.open(storage, PASSWORD)).listSnapshots();
  } finally {
    await storage.close();
  }
}

function repositoryAccess(repoDir: string): agentV1.RepositoryAccess {
  return { name: 'test', url: `file://${repoDir}`, password: PASSWORD, environment: {} };
}

function backupJob(jobId: string, repoDir: string, sources: agentV1.Source[], extra: Partial<agentV1.RunJob> = {}): agentV1.ControllerMessage {
  return { runJob: { jobId, kind: 'JOB_KIND_BACKUP', repository: repositoryAccess(repoDir), attempt: 1, backup: { policyName: 'nightly', sources, tags: ['test'] }, ...extra } };
}

function finishedFor(jobId: string) {
  return controller.messages('jobFinished').filter((m) => m.jobId === jobId);
}

/** True while a process whose command line contains `needle` runs. */
function running(needle: string): boolean {
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').includes(needle)) return true;
    } catch {
      // gone meanwhile
    }
  }
  return false;
}

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** Every file below `root` by relative path, with its content hash. */
function fileHashes(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of readdirSync(root, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) {
      const abs = join(entry.parentPath ?? entry.path, entry.name);
      out[abs.slice(root.length + 1)] = sha256(abs);
    }
  }
  return out;
}

describe('coffer-agent enroll', () => {
  test('pins the CA named in the token, enrolls, and saves a private identity', async () => {
    const dataDir = join(dirs.make('data'), 'agent');
    const token = controller.createToken({ zone: 'a' });
    const run = await runAgentCommand(['enroll', '--controller', controller.address, '--token', token, '--data-dir', dataDir, '--name', 'db-1', '--labels', 'role=db,env=prod']);

    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const identity = JSON.parse(readFileSync(join(dataDir, 'agent.json'), 'utf8'));
    expect(identity).toEqual({ agentId: expect.any(String), name: 'db-1', controller: controller.address, labels: { role: 'db', env: 'prod', zone: 'a' }, enrolledAt: expect.any(String) });
    expect(run.stdout).toBe(`enrolled as db-1 (id ${identity.agentId}); start it with: coffer-agent run --data-dir ${dataDir}\n`);
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dataDir, 'agent.key')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dataDir, 'ca.crt'), 'utf8').trim()).toBe(controller.ca.pem.trim());
    // The controller got a CSR, never the key.
    const call = controller.enrollCalls.find((c) => c.token === token)!;
    expect(call.csrPem).toContain('BEGIN CERTIFICATE REQUEST');
    expect(JSON.stringify(call)).not.toContain('PRIVATE KEY');
    expect(call.name).toBe('db-1');
    expect(call.labels).toEqual({ role: 'db', env: 'prod' });
  });

  test("refuses a controller that does not present the token's CA; the token never reaches it", async () => {
    const otherCa = await TestCa.create('someone else');
    const genuine = controller.createToken();
    const forged = genuine.replace(/\.[A-Za-z0-9_-]{43}$/, `.${otherCa.fingerprint}`);
    const callsBefore = controller.enrollCalls.length;
    const dataDir = join(dirs.make('data'), 'agent');

    const run = await runAgentCommand(['enroll', '--controller', controller.address, '--token', forged, '--data-dir', dataDir]);

    expect(run.stderr).toBe(`coffer-agent: the controller at ${controller.address} does not present the CA named in the join token; refusing to send the token\n`);
    expect(run.status).toBe(1);
    expect(controller.enrollCalls.length).toBe(callsBefore);
    expect(() => statSync(join(dataDir, 'agent.json'))).toThrow();
  });

  test('reads the token from a file, keeping it out of the process list', async () => {
    const dir = dirs.make('token');
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, `${controller.createToken()}\n`, { mode: 0o600 });
    const dataDir = join(dir, 'agent');
    const run = await runAgentCommand(['enroll', '--controller', controller.address, '--token-file', tokenFile, '--data-dir', dataDir, '--name', `file-${randomUUID().slice(0, 8)}`]);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^enrolled as file-/);
  });

  test('a malformed token is a usage error (exit 2)', async () => {
    const run = await runAgentCommand(['enroll', '--controller', controller.address, '--token', 'cj1.nope', '--data-dir', join(dirs.make('data'), 'a')]);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/^coffer-agent: the join token is malformed: .*\n$/);
  });

  test("the controller's refusal is printed as its message, with no stack trace", async () => {
    const token = controller.createToken();
    await runAgentCommand(['enroll', '--controller', controller.address, '--token', token, '--data-dir', join(dirs.make('data'), 'a'), '--name', 'once']);
    const again = await runAgentCommand(['enroll', '--controller', controller.address, '--token', token, '--data-dir', join(dirs.make('data'), 'b'), '--name', 'twice']);
    expect(again.status).toBe(1);
    expect(again.stderr).toBe('coffer-agent: the controller refused to enroll this agent: join token has already been used\n');
  });

  test('refuses to overwrite an identity without --force', async () => {
    const { dataDir, agentId } = await enrollAgent(`keep-${randomUUID().slice(0, 8)}`);
    const run = await runAgentCommand(['enroll', '--controller', controller.address, '--token', controller.createToken(), '--data-dir', dataDir, '--name', 'other']);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('already holds an agent identity');
    expect(JSON.parse(readFileSync(join(dataDir, 'agent.json'), 'utf8')).agentId).toBe(agentId);

    const forced = await runAgentCommand(['enroll', '--controller', controller.address, '--token', controller.createToken(), '--data-dir', dataDir, '--name', `new-${randomUUID().slice(0, 8)}`, '--force']);
    expect(forced.status).toBe(0);
    expect(JSON.parse(readFileSync(join(dataDir, 'agent.json'), 'utf8')).agentId).not.toBe(agentId);
  });
});

describe('coffer-agent run', () => {
  test('says hello, then sends heartbeats with host health at the Welcome interval', async () => {
    const { dataDir, agentId } = await enrollAgent('heartbeats');
    const extra = dirs.make('extra');
    const agent = AgentProcess.start(dataDir, ['--path', extra]);
    agents.push(agent);

    const hello = await waitFor(() => controller.messages('hello').find((h) => h.agentId === agentId), `hello\n${agent.stderr}`);
    expect(hello.agentVersion).toMatch(/^\d+\.\d+\.\d+/);
    expect(hello.capabilities!.jobKinds).toEqual(['JOB_KIND_BACKUP', 'JOB_KIND_RESTORE', 'JOB_KIND_FORGET', 'JOB_KIND_PRUNE', 'JOB_KIND_CHECK', 'JOB_KIND_VERIFY']);
    expect(hello.capabilities!.sourceKinds).toEqual(['files', 'command', 'postgres', 'mysql', 'redis']);
    expect(hello.runningJobIds).toEqual([]);

    const beats = await waitFor(() => {
      const b = controller.messages('heartbeat').filter((m) => m.agentId === agentId);
      return b.length >= 3 && b;
    }, 'three heartbeats');
    const gaps = beats.slice(1, 3).map((b, i) => b.at - beats[i].at);
    for (const gap of gaps) {
      expect(gap).toBeGreaterThan(700);
      expect(gap).toBeLessThan(2500);
    }
    const health = beats[0].health!;
    expect(health.os).toMatch(/^linux /);
    expect(health.hostname).not.toBe('');
    expect(health.agentRssBytes).toBeGreaterThan(1e6);
    expect(health.memoryTotalBytes).toBeGreaterThan(health.memoryAvailableBytes);
    expect(health.loadAverage).toHaveLength(3);
    expect(health.disks.map((d) => [d.path, d.role])).toEqual([
      [dataDir, 'data_dir'],
      [extra, 'source'],
    ]);
    expect(health.disks[0].totalBytes).toBeGreaterThan(health.disks[0].freeBytes);
    expect(health.tools.map((t) => t.name)).toEqual([...AGENT_TOOLS]);
    for (const tool of health.tools) expect(tool.version === '' || /^\d+(\.\d+)+$/.test(tool.version)).toBe(true);

    // Ping → Pong.
    controller.send(agentId, { ping: { nonce: 4242 } });
    await waitFor(() => controller.messages('pong').find((p) => p.agentId === agentId && p.nonce === 4242), 'pong');

    // One agent per data dir.
    const second = AgentProcess.start(dataDir);
    agents.push(second);
    expect(await second.waitForExit()).toBe(1);
    expect(second.stderr).toBe(`coffer-agent: another agent (pid ${agent.pid}) is running on ${dataDir}; stop it first\n`);
    const reenroll = await runAgentCommand(['enroll', '--controller', controller.address, '--token', controller.createToken(), '--data-dir', dataDir, '--force']);
    expect(reenroll.status).toBe(1);
    expect(reenroll.stderr).toContain(`an agent (pid ${agent.pid}) is running on ${dataDir}`);
  });

  test('backs up a directory into a snapshot, restores it byte for byte, and never runs a job twice', async () => {
    const { dataDir, agentId } = await enrollAgent('files-host');
    const repoDir = await newRepository();
    const source = dirs.make('source');
    mkdirSync(join(source, 'sub', 'deeper'), { recursive: true });
    writeFileSync(join(source, 'a.txt'), 'hello\n');
    writeFileSync(join(source, 'sub', 'b.bin'), randomBytes(3 * 1024 * 1024 + 17));
    writeFileSync(join(source, 'sub', 'deeper', 'empty'), '');
    const agent = await startAgent(dataDir, agentId);

    const backupId = randomUUID();
    controller.send(agentId, backupJob(backupId, repoDir, [{ files: { paths: [source], include: [], exclude: [], oneFileSystem: false } }]));
    await waitFor(() => controller.messages('jobAccepted').find((m) => m.jobId === backupId), 'JobAccepted');
    const [finished] = await waitFor(() => finishedFor(backupId).length > 0 && finishedFor(backupId), `JobFinished\n${agent.stderr}`, 60_000);
    expect(finished.errorMessage).toBe('');
    expect(finished.outcome).toBe('JOB_OUTCOME_SUCCEEDED');
    expect(finished.snapshots).toHaveLength(1);
    const summary = finished.snapshots[0];
    expect(summary).toMatchObject({ hostname: 'files-host', sourceKind: 'files', paths: [source], tags: ['policy=nightly', 'test'], parentId: '', files: 3 });
    expect(summary.bytesRead).toBe(6 + 3 * 1024 * 1024 + 17);
    const stored = await snapshotsIn(repoDir);
    expect(stored.map((s) => s.id)).toEqual([summary.id]);
    expect(stored[0].snapshot.host).toBe('files-host');

    // A repeated RunJob for a finished job: the stored result again, no second snapshot.
    controller.send(agentId, backupJob(backupId, repoDir, [{ files: { paths: [source], include: [], exclude: [], oneFileSystem: false } }]));
    const again = await waitFor(() => finishedFor(backupId).length > 1 && finishedFor(backupId)[1], 'the stored JobFinished');
    expect(again.snapshots.map((s) => s.id)).toEqual([summary.id]);
    expect(again.finishedAtUnixMs).toBe(finished.finishedAtUnixMs);
    expect((await snapshotsIn(repoDir)).length).toBe(1);

    const restoreId = randomUUID();
    const target = join(dirs.make('restore'), 'target');
    controller.send(agentId, { runJob: { jobId: restoreId, kind: 'JOB_KIND_RESTORE', repository: repositoryAccess(repoDir), attempt: 1, restore: { snapshotId: summary.id, targetDir: target, include: [] } } });
    const [restored] = await waitFor(() => finishedFor(restoreId).length > 0 && finishedFor(restoreId), `restore JobFinished\n${agent.stderr}`, 60_000);
    expect(restored.errorMessage).toBe('');
    expect(restored.outcome).toBe('JOB_OUTCOME_SUCCEEDED');
    expect(restored.restoredFiles).toBe(3);
    expect(restored.restoredBytes).toBe(summary.bytesRead);
    expect(fileHashes(join(target, source))).toEqual(fileHashes(source));

    // The next backup of the same paths by the same agent is incremental: its parent is the first.
    writeFileSync(join(source, 'a.txt'), 'hello again\n');
    const secondId = randomUUID();
    controller.send(agentId, backupJob(secondId, repoDir, [{ files: { paths: [source], include: [], exclude: [], oneFileSystem: false } }]));
    const [second] = await waitFor(() => finishedFor(secondId).length > 0 && finishedFor(secondId), `second JobFinished\n${agent.stderr}`, 60_000);
    expect(second.snapshots[0]).toMatchObject({ parentId: summary.id, files: 3, bytesRead: 12 });

    // Secrets stay in memory: not in the agent's log, not in its ledger.
    expect(agent.stderr).not.toContain(PASSWORD);
    for (const name of readdirSync(join(dataDir, 'jobs'))) expect(readFileSync(join(dataDir, 'jobs', name), 'utf8')).not.toContain(PASSWORD);
  });

  test("a write-only key's backups keep what the next one compares against in the agent's data dir", async () => {
    const { dataDir, agentId } = await enrollAgent('append-only-host');
    const repoDir = await newRepository();
    const storage = openStorage(repoDir);
    const writeOnlyPassword = 'can write, cannot read';
    try {
      await (await Repository.open(storage, PASSWORD)).addKey(writeOnlyPassword, { writeOnly: true });
    } finally {
      await storage.close();
    }
    const source = dirs.make('source');
    writeFileSync(join(source, 'a.txt'), 'hello\n');
    writeFileSync(join(source, 'b.bin'), randomBytes(100_000));
    const agent = await startAgent(dataDir, agentId);
    const backUp = async () => {
      const jobId = randomUUID();
      const job = backupJob(jobId, repoDir, [{ files: { paths: [source], include: [], exclude: [], oneFileSystem: false } }]);
      job.runJob!.repository = { ...repositoryAccess(repoDir), password: writeOnlyPassword };
      controller.send(agentId, job);
      const [finished] = await waitFor(() => finishedFor(jobId).length > 0 && finishedFor(jobId), `JobFinished\n${agent.stderr}`, 60_000);
      expect(finished.errorMessage).toBe('');
      return finished.snapshots[0];
    };
    const first = await backUp();
    expect(first.bytesRead).toBe(6 + 100_000);
    const { config } = await (async () => {
      const reader = openStorage(repoDir);
      try {
        return await Repository.open(reader, PASSWORD);
      } finally {
        await reader.close();
      }
    })();
    expect(readdirSync(join(dataDir, 'cache'))).toEqual([config.id]);
    // Unchanged files are not read again: the cache stood in for the parent it cannot decrypt.
    const second = await backUp();
    expect(second).toMatchObject({ parentId: first.id, files: 2, bytesRead: 0 });
  });

  test('a command source that exits 1 fails the job and writes no snapshot', async () => {
    const { dataDir, agentId } = await enrollAgent('command-host');
    const repoDir = await newRepository();
    const agent = await startAgent(dataDir, agentId);
    const jobId = randomUUID();
    controller.send(agentId, backupJob(jobId, repoDir, [{ command: { command: "printf 'partial dump'; echo 'pg_dump: connection refused' >&2; exit 1", filename: 'all.sql' } }]));
    const [finished] = await waitFor(() => finishedFor(jobId).length > 0 && finishedFor(jobId), `JobFinished\n${agent.stderr}`, 60_000);
    expect(finished.outcome).toBe('JOB_OUTCOME_FAILED');
    expect(finished.errorMessage).toBe('the command exited with status 1: pg_dump: connection refused');
    expect(finished.log).toContain('stderr: pg_dump: connection refused');
    expect(finished.snapshots).toEqual([]);
    expect(await snapshotsIn(repoDir)).toEqual([]);

    // The same source exiting 0 does make a snapshot of its output.
    const okId = randomUUID();
    controller.send(agentId, backupJob(okId, repoDir, [{ command: { command: "printf 'complete dump'", filename: 'all.sql' } }]));
    const [ok] = await waitFor(() => finishedFor(okId).length > 0 && finishedFor(okId), `JobFinished\n${agent.stderr}`, 60_000);
    expect(ok.outcome).toBe('JOB_OUTCOME_SUCCEEDED');
    expect(ok.snapshots[0]).toMatchObject({ sourceKind: 'stdin', paths: ['/all.sql'], bytesRead: 13 });
  });

  test('a job keeps running while the controller is away; its result is delivered when it is back, and re-sent until acked', async () => {
    const { dataDir, agentId } = await enrollAgent('patient-host');
    const repoDir = await newRepository();
    const agent = await startAgent(dataDir, agentId);
    const jobId = randomUUID();
    controller.send(agentId, backupJob(jobId, repoDir, [{ command: { command: "sleep 3; printf 'slow dump'", filename: 'slow.sql' } }]));
    await waitFor(() => controller.messages('jobAccepted').find((m) => m.jobId === jobId), 'JobAccepted');
    const progress = await waitFor(() => controller.messages('jobProgress').find((m) => m.jobId === jobId), 'JobProgress');
    expect(progress.phase).toBe('running command');

    const port = controller.port;
    await controller.stop();
    controller.autoAck = false;
    try {
      await waitFor(() => agent.stderr.includes(`job ${jobId} (backup) succeeded`), `the job to finish while disconnected\n${agent.stderr}`, 30_000);
      expect(finishedFor(jobId)).toEqual([]);
      const status = await runAgentCommand(['status', '--data-dir', dataDir, '--json']);
      expect(JSON.parse(status.stdout).pendingResults.map((r: { jobId: string }) => r.jobId)).toEqual([jobId]);

      await controller.start(port);
      const first = await waitFor(() => finishedFor(jobId).length >= 1 && finishedFor(jobId)[0], `JobFinished after reconnect\n${agent.stderr}`, 90_000);
      expect(first.outcome).toBe('JOB_OUTCOME_SUCCEEDED');
      expect(first.snapshots).toHaveLength(1);

      // Not acked: the next connection carries it again.
      await controller.stop();
      await controller.start(port);
      await waitFor(() => finishedFor(jobId).length >= 2, `JobFinished re-sent after the next reconnect\n${agent.stderr}`, 90_000);
    } finally {
      controller.autoAck = true;
      if (!controller.running) await controller.start(port);
    }
    await waitFor(() => controller.streams.has(agentId), 'the agent to be connected');
    controller.send(agentId, { jobFinishedAck: { jobId } });
    await waitFor(() => agent.stderr.includes(`job ${jobId}: result acknowledged`), 'the ack to be recorded');
    const status = await runAgentCommand(['status', '--data-dir', dataDir, '--json']);
    expect(JSON.parse(status.stdout).pendingResults).toEqual([]);
    expect((await snapshotsIn(repoDir)).length).toBe(1);
  });

  test('timeout_seconds stops a job with TIMED_OUT, CancelJob with CANCELLED; neither writes a snapshot', async () => {
    const { dataDir, agentId } = await enrollAgent('stoppable');
    const repoDir = await newRepository();
    const agent = await startAgent(dataDir, agentId);

    const slowId = randomUUID();
    controller.send(agentId, backupJob(slowId, repoDir, [{ command: { command: "sleep 30; printf 'late'", filename: 'late.sql' } }], { timeoutSeconds: 1 }));
    const [timedOut] = await waitFor(() => finishedFor(slowId).length > 0 && finishedFor(slowId), `TIMED_OUT\n${agent.stderr}`, 20_000);
    expect(timedOut.outcome).toBe('JOB_OUTCOME_TIMED_OUT');
    expect(timedOut.errorMessage).toBe('the job did not finish within its time limit of 1 s');
    expect(timedOut.finishedAtUnixMs - timedOut.startedAtUnixMs).toBeLessThan(10_000);

    const cancelId = randomUUID();
    controller.send(agentId, backupJob(cancelId, repoDir, [{ command: { command: "sleep 30; printf 'late'", filename: 'late.sql' } }]));
    await waitFor(() => controller.messages('jobAccepted').find((m) => m.jobId === cancelId), 'JobAccepted');
    controller.send(agentId, { cancelJob: { jobId: cancelId, reason: 'maintenance window' } });
    const [cancelled] = await waitFor(() => finishedFor(cancelId).length > 0 && finishedFor(cancelId), `CANCELLED\n${agent.stderr}`, 20_000);
    expect(cancelled.outcome).toBe('JOB_OUTCOME_CANCELLED');
    expect(cancelled.errorMessage).toBe('cancelled by the controller: maintenance window');
    expect(await snapshotsIn(repoDir)).toEqual([]);
  });

  test('forget applies retention to one policy of one host; prune and check run', async () => {
    const { dataDir, agentId } = await enrollAgent('retained');
    const repoDir = await newRepository();
    const agent = await startAgent(dataDir, agentId);
    const runToEnd = async (message: agentV1.ControllerMessage) => {
      const jobId = message.runJob!.jobId!;
      controller.send(agentId, message);
      const [done] = await waitFor(() => finishedFor(jobId).length > 0 && finishedFor(jobId), `JobFinished ${jobId}\n${agent.stderr}`, 60_000);
      return done;
    };
    const ids: string[] = [];
    for (const policy of ['nightly', 'nightly', 'nightly', 'weekly']) {
      const done = await runToEnd({ runJob: { jobId: randomUUID(), kind: 'JOB_KIND_BACKUP', repository: repositoryAccess(repoDir), attempt: 1, backup: { policyName: policy, sources: [{ command: { command: `printf '${randomUUID()}'`, filename: 'db.sql' } }], tags: [] } } });
      ids.push(done.snapshots[0].id);
    }

    const forgot = await runToEnd({ runJob: { jobId: randomUUID(), kind: 'JOB_KIND_FORGET', repository: repositoryAccess(repoDir), attempt: 1, forget: { tag: 'policy=nightly', host: 'retained', retention: { keepLast: 1 } } } });
    expect(forgot.errorMessage).toBe('');
    expect(forgot.outcome).toBe('JOB_OUTCOME_SUCCEEDED');
    expect([...forgot.forgottenSnapshotIds].sort()).toEqual([ids[0], ids[1]].sort());
    expect((await snapshotsIn(repoDir)).map((s) => s.id).sort()).toEqual([ids[2], ids[3]].sort());

    const pruned = await runToEnd({ runJob: { jobId: randomUUID(), kind: 'JOB_KIND_PRUNE', repository: repositoryAccess(repoDir), attempt: 1, prune: {} } });
    expect(pruned.outcome).toBe('JOB_OUTCOME_SUCCEEDED');
    const checked = await runToEnd({ runJob: { jobId: randomUUID(), kind: 'JOB_KIND_CHECK', repository: repositoryAccess(repoDir), attempt: 1, check: { readData: true } } });
    expect(checked.outcome).toBe('JOB_OUTCOME_SUCCEEDED');
    expect(checked.log.at(-1)).toMatch(/^checked 2 snapshot\(s\), .*: no errors found$/);

    const wrong = await runToEnd({ runJob: { jobId: randomUUID(), kind: 'JOB_KIND_CHECK', repository: { ...repositoryAccess(repoDir), password: 'not it' }, attempt: 1, check: {} } });
    expect(wrong.outcome).toBe('JOB_OUTCOME_FAILED');
    expect(wrong.errorMessage).toMatch(/^wrong password/);
    const missing = await runToEnd(backupJob(randomUUID(), repoDir, [{ files: { paths: ['/srv/does-not-exist'] } }]));
    expect(missing.errorMessage).toBe('no such file or directory: /srv/does-not-exist');
  });

  test('a job left running by a killed agent is reported FAILED by the next agent, and its command does not linger', async () => {
    const { dataDir, agentId } = await enrollAgent('killed');
    const repoDir = await newRepository();
    const agent = await startAgent(dataDir, agentId);
    const jobId = randomUUID();
    const marker = `${20 + Math.floor(Math.random() * 1000) / 100}`;
    controller.send(agentId, backupJob(jobId, repoDir, [{ command: { command: `sleep ${marker}; printf 'never'`, filename: 'x.sql' } }]));
    await waitFor(() => controller.messages('jobAccepted').find((m) => m.jobId === jobId), 'JobAccepted');
    await waitFor(() => running(`sleep ${marker}`), 'the command to start');
    agent.child.kill('SIGKILL');
    await agent.waitForExit();
    await waitFor(() => !running(`sleep ${marker}`), 'the command to be stopped', 20_000);

    const next = await startAgent(dataDir, agentId);
    const [finished] = await waitFor(() => finishedFor(jobId).length > 0 && finishedFor(jobId), `JobFinished\n${next.stderr}`);
    expect(finished.outcome).toBe('JOB_OUTCOME_FAILED');
    expect(finished.errorMessage).toBe('the agent stopped while the job was running');
    expect(next.stderr).toContain(`job ${jobId} was running when the agent stopped: recorded as failed`);
    // At most once: the controller asking again gets that result, the job does not run again.
    controller.send(agentId, backupJob(jobId, repoDir, [{ command: { command: `sleep ${marker}; printf 'never'`, filename: 'x.sql' } }]));
    await waitFor(() => finishedFor(jobId).length > 1, 'the stored result again');
    expect(running(`sleep ${marker}`)).toBe(false);
    expect(await snapshotsIn(repoDir)).toEqual([]);
  });

  test('status shows the identity and the results not yet delivered', async () => {
    const { dataDir, agentId } = await enrollAgent('status-host');
    const text = await runAgentCommand(['status', '--data-dir', dataDir]);
    expect(text.status).toBe(0);
    expect(text.stdout).toContain(`agent:       status-host (id ${agentId})`);
    expect(text.stdout).toContain(`controller:  ${controller.address}`);
    expect(text.stdout).toContain('labels:      role=db, env=test');
    expect(text.stdout).toContain('not running');
    expect(text.stdout).toContain('pending results: none');
    const json = JSON.parse((await runAgentCommand(['status', '--data-dir', dataDir, '--json'])).stdout);
    expect(json).toMatchObject({ agentId, name: 'status-host', labels: { role: 'db', env: 'test' }, agentPid: null, pendingResults: [] });

    const none = await runAgentCommand(['status', '--data-dir', dirs.make('empty')]);
    expect(none.status).toBe(1);
    expect(none.stderr).toMatch(/^coffer-agent: .* holds no agent identity \(agent\.json is missing\): enroll first with/);
  });

  test('a revoked agent stops with exit code 1 and says why', async () => {
    const { dataDir, agentId } = await enrollAgent('doomed');
    const agent = await startAgent(dataDir, agentId);
    controller.revoke(agentId);
    expect(await agent.waitForExit(30_000)).toBe(1);
    expect(agent.stderr).toContain('ERROR this agent has been revoked (or is unknown) at the controller; enroll it again with a new token');

    // Starting it again changes nothing.
    const again = AgentProcess.start(dataDir);
    agents.push(again);
    expect(await again.waitForExit(30_000)).toBe(1);
    expect(again.stderr).toContain('this agent has been revoked (or is unknown) at the controller');
  });
});
