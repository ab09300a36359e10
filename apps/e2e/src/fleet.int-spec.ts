/*
 * The fleet end to end, with real processes only: a controller on the machine's PostgreSQL,
 * three `coffer-agent` processes with their own data dirs, and the `coffer` CLI. Every
 * check goes through what an operator uses (CLI, REST) and what lands on disk.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { AgentView, CatalogSnapshotView, JobDetailView, JobView } from '@coffer/contracts';
import { createTestDatabase, RunningController, startController } from '../../controller/src/test-support/controller-process';
import { AgentProcess, CofferCli, e2eTempDir, removeTree, waitFor } from './support/fleet-processes';

const ADMIN_PASSWORD = 'e2e-admin-password-1';
const FAST_CLOCKS = { COFFER_HEARTBEAT_INTERVAL: '1s', COFFER_OFFLINE_AFTER_MISSED: '3', COFFER_SCHEDULER_TICK: '250ms' };

/** Every regular file under `dir` with the SHA-256 of its bytes, by relative path. */
function treeDigest(dir: string): Record<string, string> {
  const digest: Record<string, string> = {};
  const walk = (current: string): void => {
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const path = join(current, entry.name);
      if (entry.isDirectory()) walk(path);
      else digest[relative(dir, path)] = createHash('sha256').update(readFileSync(path)).digest('hex');
    }
  };
  walk(dir);
  return digest;
}

describe('a controller, three agents and the CLI', () => {
  let work: string;
  let database: { url: string; drop(): Promise<void> } | undefined;
  let controller: RunningController;
  let cli: CofferCli;
  const agents = new Map<string, AgentProcess>();
  let dataset: string;

  const agentList = (): AgentView[] => cli.json<AgentView[]>(['agents']);
  const agentNamed = (name: string): AgentView | undefined => agentList().find((a) => a.name === name);
  const jobsOf = (policy: string): JobView[] => cli.json<JobView[]>(['jobs', '--policy', policy, '--limit', '500']);

  /** Starts the controller; a restart keeps the ports, since enrolled agents dial that address. */
  async function startFleetController(previous?: RunningController): Promise<RunningController> {
    const ports = previous ? ['--http-port', new URL(previous.httpUrl).port, '--grpc-port', previous.grpcAddress.split(':').pop()!] : [];
    return startController({ databaseUrl: database!.url, dataDir: join(work, 'controller'), adminPassword: ADMIN_PASSWORD, env: FAST_CLOCKS, args: ports });
  }

  async function enrollAndRun(name: string, token: string): Promise<AgentProcess> {
    const dataDir = join(work, `agent-${name}`);
    const enrolled = await AgentProcess.enroll({ grpcAddress: controller.grpcAddress, token, dataDir, name, labels: 'fleet=e2e' });
    expect({ status: enrolled.status, output: enrolled.output }).toEqual({ status: 0, output: expect.stringContaining(`enrolled as ${name}`) });
    const agent = new AgentProcess(name, dataDir);
    agent.start();
    agents.set(name, agent);
    return agent;
  }

  beforeAll(async () => {
    work = e2eTempDir('fleet');
    database = await createTestDatabase();
    controller = await startFleetController();
    cli = new CofferCli(join(work, 'cli-config'), controller.httpUrl);
    cli.login(ADMIN_PASSWORD);

    dataset = join(work, 'dataset');
    mkdirSync(join(dataset, 'nested', 'deeper'), { recursive: true });
    writeFileSync(join(dataset, 'hello.txt'), 'hello from the fleet\n');
    writeFileSync(join(dataset, 'nested', 'random.bin'), Buffer.from(Array.from({ length: 3 << 20 }, (_, i) => (i * 7919) % 251)));
    writeFileSync(join(dataset, 'nested', 'deeper', 'empty'), '');
    writeFileSync(join(work, 'repo-password'), 'correct horse battery staple\n', { mode: 0o600 });
  }, 120_000);

  afterAll(async () => {
    for (const agent of agents.values()) await agent.kill();
    await controller?.stop();
    await database?.drop();
    if (work) removeTree(work);
  }, 60_000);

  it('registers a repository without ever showing its password', () => {
    const added = cli.run(['repos', 'add', 'main', '--url', join(work, 'repo'), '--password-file', join(work, 'repo-password'), '--init']);
    expect(added.status).toBe(0);
    const listed = cli.run(['repos', '--json']);
    expect(listed.stdout).toContain('"main"');
    expect(listed.stdout + controller.output()).not.toContain('correct horse battery staple');
  });

  it('refuses unknown, expired and reused join tokens, each with its reason', async () => {
    const unknown = await AgentProcess.enroll({
      grpcAddress: controller.grpcAddress,
      token: cli.run(['tokens', 'create']).stdout.trim().replace(/^cj1\.[0-9a-f]{16}\./, 'cj1.0000000000000000.'),
      dataDir: join(work, 'agent-unknown'),
      name: 'unknown-token',
    });
    expect(unknown.status).not.toBe(0);
    expect(unknown.output).toContain('join token is unknown');

    const shortLived = cli.run(['tokens', 'create', '--ttl', '1s']).stdout.trim();
    await new Promise((r) => setTimeout(r, 1500));
    const expired = await AgentProcess.enroll({ grpcAddress: controller.grpcAddress, token: shortLived, dataDir: join(work, 'agent-expired'), name: 'expired-token' });
    expect(expired.status).not.toBe(0);
    expect(expired.output).toMatch(/join token expired at \d{4}-\d\d-\d\dT/);

    const once = cli.run(['tokens', 'create']).stdout.trim();
    expect((await AgentProcess.enroll({ grpcAddress: controller.grpcAddress, token: once, dataDir: join(work, 'agent-once'), name: 'once' })).status).toBe(0);
    const reused = await AgentProcess.enroll({ grpcAddress: controller.grpcAddress, token: once, dataDir: join(work, 'agent-twice'), name: 'twice' });
    expect(reused.status).not.toBe(0);
    expect(reused.output).toContain('join token has already been used');
  });

  it('enrolls three agents that report heartbeats with their health', async () => {
    const token = cli.run(['tokens', 'create', '--uses', '3', '--labels', 'site=lab']).stdout.trim();
    for (const name of ['alpha', 'bravo', 'charlie']) await enrollAndRun(name, token);

    const online = await waitFor('three agents online with health', () => {
      const list = agentList().filter((a) => ['alpha', 'bravo', 'charlie'].includes(a.name));
      return list.length === 3 && list.every((a) => a.status === 'online' && a.health) ? list : undefined;
    });
    for (const agent of online) {
      expect(agent.labels).toEqual({ fleet: 'e2e', site: 'lab' });
      expect(agent.version).toMatch(/^\d+\.\d+\.\d+/);
      expect(agent.health!.agentRssBytes).toBeGreaterThan(0);
      expect(agent.health!.disks.map((d) => d.role)).toContain('data_dir');
      expect(agent.health!.tools.find((t) => t.name === 'pg_dump')?.version).toMatch(/^\d+/);
    }
  });

  it('marks a killed agent offline and online again when it comes back', async () => {
    const charlie = agents.get('charlie')!;
    await charlie.kill('SIGKILL');
    await waitFor('charlie offline', () => agentNamed('charlie')?.status === 'offline', 20_000);
    charlie.start();
    await waitFor('charlie online again', () => agentNamed('charlie')?.status === 'online', 20_000);
  });

  it('runs a policy on a seconds cron on all three agents, and restores alpha’s snapshot on bravo byte for byte', async () => {
    const policyFile = join(work, 'every-few-seconds.yaml');
    const policy = (enabled: boolean) =>
      [
        'name: every-few-seconds',
        `enabled: ${enabled}`,
        'selector: { fleet: e2e }',
        'repository: main',
        'sources:',
        `  - files: { paths: ["${dataset}"] }`,
        'schedules:',
        '  - { cron: "*/4 * * * * *", timezone: UTC }',
        'retention: { keepLast: 2 }',
      ].join('\n');
    writeFileSync(policyFile, policy(true));
    const applied = cli.run(['apply', '-f', policyFile]);
    expect(applied.status).toBe(0);
    expect(applied.stdout).toContain('policy "every-few-seconds" created');

    const snapshots = await waitFor(
      'a scheduled snapshot from each agent',
      () => {
        const list = cli.json<CatalogSnapshotView[]>(['snapshots', '--policy', 'every-few-seconds']);
        const agentsWithSnapshots = new Set(list.filter((s) => s.status === 'available').map((s) => s.agent));
        return ['alpha', 'bravo', 'charlie'].every((a) => agentsWithSnapshots.has(a)) ? list : undefined;
      },
      60_000,
    );
    writeFileSync(policyFile, policy(false));
    expect(cli.run(['apply', '-f', policyFile]).stdout).toContain('enabled: true → false');

    const jobs = jobsOf('every-few-seconds').filter((j) => j.kind === 'backup');
    expect(jobs.every((j) => j.trigger === 'schedule')).toBe(true);
    expect(jobs.filter((j) => j.status === 'succeeded').length).toBeGreaterThanOrEqual(3);

    const fromAlpha = snapshots.find((s) => s.agent === 'alpha' && s.status === 'available')!;
    expect(fromAlpha).toMatchObject({ hostname: 'alpha', policy: 'every-few-seconds', sourceKind: 'files', paths: [dataset] });
    const target = join(work, 'restored-on-bravo');
    const restore = cli.run(['restore', fromAlpha.id, '--agent', 'bravo', '--target', target, '--wait']);
    expect({ status: restore.status, stderr: restore.stderr }).toEqual({ status: 0, stderr: expect.any(String) });
    expect(treeDigest(join(target, dataset))).toEqual(treeDigest(dataset));
    expect(statSync(join(target, dataset, 'nested', 'random.bin')).size).toBe(3 << 20);
  });

  it('records a backup exactly once when the controller is killed and restarted while it runs', async () => {
    const slowFile = join(work, 'slow.yaml');
    writeFileSync(
      slowFile,
      ['name: slow-dump', 'selector: { fleet: e2e }', 'repository: main', 'sources:', `  - command: { run: "sleep 4; cat '${join(dataset, 'hello.txt')}'", filename: hello.dump }`].join('\n'),
    );
    expect(cli.run(['apply', '-f', slowFile]).status).toBe(0);
    const [job] = cli.json<JobView[]>(['run', 'slow-dump', '--agent', 'alpha']);
    await waitFor('the slow job running', () => cli.json<JobDetailView>(['jobs', 'show', job.id]).status === 'running', 20_000);

    await controller.kill();
    await new Promise((r) => setTimeout(r, 6000)); // the agent finishes the dump while no controller is there
    controller = await startFleetController(controller);

    const finished = await waitFor('the job recorded after the restart', () => {
      const detail = cli.json<JobDetailView>(['jobs', 'show', job.id]);
      return detail.status === 'succeeded' ? detail : undefined;
    });
    expect(finished.snapshotIds).toHaveLength(1);
    expect(jobsOf('slow-dump')).toHaveLength(1);
    const catalog = cli.json<CatalogSnapshotView[]>(['snapshots', '--policy', 'slow-dump']);
    expect(catalog.map((s) => s.id)).toEqual(finished.snapshotIds);
    // The repository agrees: one snapshot with that policy's tag.
    const inRepository = cli.json<{ id: string; tags: string[] }[]>(['repo', 'snapshots', '--tag', 'policy=slow-dump'], {
      env: { COFFER_REPOSITORY: join(work, 'repo'), COFFER_PASSWORD_FILE: join(work, 'repo-password') },
    });
    expect(inRepository.map((s) => s.id)).toEqual(finished.snapshotIds);
  });

  it('refuses an invalid policy, naming every bad field', () => {
    const badFile = join(work, 'bad.yaml');
    writeFileSync(badFile, ['name: bad', 'selector: {}', 'repository: main', 'sources: []', 'schedules:', '  - { cron: "99 * * * *" }', 'timeout: soon'].join('\n'));
    const result = cli.run(['apply', '-f', badFile]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('policy "bad" is invalid');
    expect(result.stderr).toMatch(/sources: needs at least one source/);
    expect(result.stderr).toMatch(/schedules\.0\.cron: is not a valid cron expression/);
    expect(result.stderr).toMatch(/timeout: must be a duration/);
  });

  it('refuses API calls without a token', async () => {
    for (const path of ['/api/v1/agents', '/api/v1/policies', '/api/v1/jobs', '/api/v1/snapshots', '/api/v1/repositories']) {
      const response = await fetch(controller.httpUrl + path);
      expect({ path, status: response.status, code: ((await response.json()) as { error: { code: string } }).error.code }).toEqual({ path, status: 401, code: 'unauthorized' });
    }
  });

  it('cuts off a revoked agent at once and for good', async () => {
    const charlie = agents.get('charlie')!;
    const revoke = cli.run(['agents', 'revoke', 'charlie']);
    expect({ status: revoke.status, stderr: revoke.stderr }).toEqual({ status: 0, stderr: '' });
    expect(await charlie.exited()).not.toBe(0);
    expect(charlie.output()).toMatch(/revoked/);
    charlie.start();
    expect(await charlie.exited()).not.toBe(0);
    expect(agentNamed('charlie')?.status).toBe('revoked');
  });
});
