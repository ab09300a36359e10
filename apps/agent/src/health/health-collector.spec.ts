import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HealthCollector } from './health-collector';

let dir: string;
beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'coffer-agent-health-'))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('HealthCollector', () => {
  test('collects every Health field with plausible values', async () => {
    const detect = jest.fn(async () => [{ name: 'pg_dump', version: '15.8', path: '/usr/bin/pg_dump' }]);
    const collector = new HealthCollector({ dataDir: dir, detect });
    await collector.start();
    const health = await collector.collect();
    collector.stop();

    expect(Object.keys(health).sort()).toEqual(
      ['agentRssBytes', 'agentUptimeSeconds', 'agentVersion', 'arch', 'disks', 'hostUptimeSeconds', 'hostname', 'loadAverage', 'memoryAvailableBytes', 'memoryTotalBytes', 'os', 'tools'].sort(),
    );
    expect(health.os).toMatch(new RegExp(`^${process.platform} \\S+`));
    expect(health.arch).toBe(process.arch);
    expect(health.agentVersion).toMatch(/^\d+\.\d+\.\d+/);
    expect(health.hostUptimeSeconds).toBeGreaterThan(0);
    expect(health.agentUptimeSeconds).toBeGreaterThan(0);
    expect(health.loadAverage).toHaveLength(3);
    expect(health.memoryTotalBytes).toBeGreaterThan(0);
    expect(health.memoryAvailableBytes).toBeGreaterThan(0);
    expect(health.memoryAvailableBytes).toBeLessThanOrEqual(health.memoryTotalBytes);
    expect(health.agentRssBytes).toBeGreaterThan(0);
    expect(health.disks).toEqual([{ path: dir, role: 'data_dir', freeBytes: expect.any(Number), totalBytes: expect.any(Number) }]);
    expect(health.disks[0].freeBytes).toBeLessThanOrEqual(health.disks[0].totalBytes);
    expect(health.tools).toEqual([{ name: 'pg_dump', version: '15.8', path: '/usr/bin/pg_dump' }]);
    expect(detect).toHaveBeenCalledTimes(1);
  });

  test('reports configured and backed-up paths once each, and leaves out paths that cannot be read', async () => {
    const collector = new HealthCollector({ dataDir: dir, extraPaths: [dir, '/', '/'], detect: async () => [] });
    collector.addSourcePaths(['/', '/tmp', join(dir, 'does-not-exist')]);
    const disks = (await collector.collect()).disks;
    expect(disks.map((d) => [d.path, d.role])).toEqual([
      [dir, 'data_dir'],
      ['/', 'source'],
      ['/tmp', 'source'],
    ]);
  });

  test('before tools are detected, each is reported as not found', async () => {
    const tools = (await new HealthCollector({ dataDir: dir }).collect()).tools;
    expect(tools).toEqual(['pg_dump', 'pg_restore', 'psql', 'pg_dumpall', 'mariadb-dump', 'mysqldump', 'mariadb', 'mysql', 'redis-cli', 'redis-server', 'redis-check-rdb'].map((name) => ({ name, version: '', path: '' })));
  });

  test('a failing detection keeps what was known', async () => {
    let calls = 0;
    const collector = new HealthCollector({
      dataDir: dir,
      toolRefreshMs: 10,
      detect: async () => {
        if (++calls > 1) throw new Error('boom');
        return [{ name: 'redis-cli', version: '7.0.15', path: '/usr/bin/redis-cli' }];
      },
    });
    await collector.start();
    await new Promise((resolve) => setTimeout(resolve, 50));
    collector.stop();
    expect(calls).toBeGreaterThan(1);
    expect((await collector.collect()).tools).toEqual([{ name: 'redis-cli', version: '7.0.15', path: '/usr/bin/redis-cli' }]);
  });
});
