/*
 * The README's promises: `npm start` brings up a controller on the embedded database with
 * a repository and one enrolled local agent, and docker-compose.yml is a valid file.
 */
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { AgentView, CatalogSnapshotView, JobView } from '@coffer/contracts';
import { CofferCli, e2eTempDir, removeTree, waitFor } from './support/fleet-processes';

const ROOT = resolve(__dirname, '../../..');

describe('npm start', () => {
  let work: string;
  let start: ChildProcess | undefined;
  let output = '';

  beforeAll(() => {
    work = e2eTempDir('start');
  });

  afterAll(async () => {
    if (start && start.exitCode === null) {
      const exited = new Promise((r) => start!.once('exit', r));
      start.kill('SIGINT');
      await exited;
    }
    removeTree(work);
  }, 30_000);

  it('starts a controller with an embedded database and a local agent, ready to back up and restore', async () => {
    const configDir = join(work, 'cli-config');
    start = spawn(process.execPath, [join(ROOT, 'scripts/start-local.mjs'), '--data-dir', join(work, 'coffer'), '--http-port', '0', '--grpc-port', '0'], {
      env: { ...process.env, COFFER_CONFIG_DIR: configDir, DATABASE_URL: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    start.stdout!.on('data', (d) => (output += d));
    start.stderr!.on('data', (d) => (output += d));

    await waitFor('"Coffer is running"', () => output.includes('Coffer is running'), 90_000);
    const url = /API:\s+(http:\/\/[^/\s]+)\/api\/v1/.exec(output)![1];
    expect(output).toContain('(the coffer CLI is already logged in for you)');
    expect(existsSync(join(work, 'coffer', 'controller', 'db'))).toBe(true);

    const cli = new CofferCli(configDir, url);
    const [agent] = await waitFor('the local agent online', () => {
      const agents = cli.json<AgentView[]>(['agents']);
      return agents.length === 1 && agents[0].status === 'online' ? agents : undefined;
    });
    expect(agent.labels).toEqual({ local: 'true' });

    const data = join(work, 'data');
    mkdirSync(data);
    writeFileSync(join(data, 'note.txt'), 'backed up by the quick start\n');
    writeFileSync(
      join(work, 'policy.yaml'),
      ['name: quick', 'selector: { local: "true" }', 'repository: local', 'sources:', `  - files: { paths: ["${data}"] }`].join('\n'),
    );
    expect(cli.run(['apply', '-f', join(work, 'policy.yaml')]).status).toBe(0);
    const run = cli.run(['run', 'quick', '--wait']);
    expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: expect.any(String) });
    const [snapshot] = cli.json<CatalogSnapshotView[]>(['snapshots', '--policy', 'quick']);
    const target = join(work, 'restored');
    expect(cli.run(['restore', snapshot.id, '--agent', agent.name, '--target', target, '--wait']).status).toBe(0);
    expect(spawnSync('diff', ['-r', data, join(target, data)]).status).toBe(0);
    expect(cli.json<JobView[]>(['jobs', '--policy', 'quick']).map((j) => j.status)).toEqual(['succeeded']);
  }, 180_000);
});

describe('docker-compose.yml', () => {
  it('is valid for docker-compose', () => {
    const secrets = join(ROOT, 'deploy', 'secrets');
    const result = spawnSync('docker-compose', ['-f', join(ROOT, 'docker-compose.yml'), 'config', '-q'], { encoding: 'utf8', cwd: ROOT, env: { ...process.env, PATH: process.env.PATH } });
    if (result.error && process.env.COFFER_TEST_DISALLOW_SKIP !== '1') {
      console.warn('docker-compose is not installed: skipping (apt-get install --no-install-recommends docker-compose)');
      return;
    }
    expect({ status: result.status, stderr: result.stderr, secrets: existsSync(secrets) || 'not needed' }).toMatchObject({ status: 0, stderr: '' });
  });
});
