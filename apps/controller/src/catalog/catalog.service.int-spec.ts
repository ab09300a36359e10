/**
 * CatalogService as the fleet side uses it (SnapshotCatalog), on a real PostgreSQL database
 * with the catalog migration applied.
 */
import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { ApiTokenEntity } from '../auth/api-token.entity';
import { UserEntity } from '../auth/user.entity';
import { CatalogSchema1763800000001 } from '../database/migrations/1763800000001-catalog-schema';
import { PolicyEntity } from '../policies/policy.entity';
import { RepositoryEntity } from '../repositories/repository.entity';
import type { RepositoryStorage } from '../repositories/repository-storage';
import { ApiException } from '../shared/api-exception';
import type { RepositoryDirectory, SnapshotRecordInput } from '../shared/fleet-ports';
import { createTestDatabaseOrSkip, TestDatabase } from '../test-support/controller-process';
import { CatalogService } from './catalog.service';
import { SnapshotEntity } from './snapshot.entity';

let database: TestDatabase | undefined;
let dataSource: DataSource;
let catalog: CatalogService;

const hex = (prefix: string) => prefix.padEnd(64, '0');

function snapshot(id: string, overrides: Partial<SnapshotRecordInput> = {}): SnapshotRecordInput {
  return {
    repositoryName: 'main',
    agentName: 'web-1',
    policyName: 'nightly',
    jobId: null,
    id,
    time: new Date('2026-01-01T02:00:00Z'),
    hostname: 'web-1.example.com',
    sourceKind: 'files',
    paths: ['/var/www'],
    tags: ['policy=nightly'],
    parentId: null,
    files: 10,
    bytesRead: 5_000_000_000_000, // above 2^32: bigint columns must round-trip as numbers
    bytesNew: 1000,
    bytesStored: 600,
    durationSeconds: 1.5,
    ...overrides,
  };
}

beforeAll(async () => {
  database = await createTestDatabaseOrSkip();
  if (!database) return;
  dataSource = new DataSource({
    type: 'postgres',
    url: database.url,
    entities: [UserEntity, ApiTokenEntity, RepositoryEntity, PolicyEntity, SnapshotEntity],
    migrations: [CatalogSchema1763800000001],
    migrationsRun: true,
    synchronize: false,
  });
  await dataSource.initialize();
  await dataSource.query(`INSERT INTO repositories (name, url, secret_ciphertext) VALUES ('main', '/srv/main', '\\x00'), ('other', '/srv/other', '\\x00')`);
  const unused = {} as RepositoryDirectory & RepositoryStorage;
  catalog = new CatalogService(dataSource.getRepository(SnapshotEntity), unused, unused);
});

afterAll(async () => {
  if (dataSource?.isInitialized) await dataSource.destroy();
  await database?.drop();
});

const withDatabase = (name: string, test: () => Promise<void>) => it(name, async () => (database ? test() : undefined));

async function apiError(promise: Promise<unknown>): Promise<{ status: number; code: string; message: string }> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof ApiException) return { status: err.getStatus(), code: err.code, message: err.message };
    throw err;
  }
  throw new Error('expected an ApiException');
}

describe('SnapshotCatalog', () => {
  withDatabase('records snapshots idempotently and lists them newest first', async () => {
    const older = snapshot(hex('aaaa1'), { time: new Date('2026-01-01T02:00:00Z') });
    const newer = snapshot(hex('aaaa2'), { time: new Date('2026-01-02T02:00:00Z'), jobId: '0b7f6d8e-8d2a-4bde-9e59-0a4b7a0f6c11', parentId: hex('aaaa1') });
    await catalog.recordSnapshots([older, newer]);
    await catalog.recordSnapshots([older, newer, older]); // again, and twice in one call
    const listed = await catalog.list({});
    expect(listed.map((s) => s.id)).toEqual([newer.id, older.id]);
    expect(listed[0]).toEqual({
      id: newer.id,
      shortId: 'aaaa2000',
      repository: 'main',
      agent: 'web-1',
      hostname: 'web-1.example.com',
      policy: 'nightly',
      sourceKind: 'files',
      paths: ['/var/www'],
      tags: ['policy=nightly'],
      time: '2026-01-02T02:00:00.000Z',
      files: 10,
      bytesRead: 5_000_000_000_000,
      bytesNew: 1000,
      bytesStored: 600,
      durationSeconds: 1.5,
      status: 'available',
      jobId: '0b7f6d8e-8d2a-4bde-9e59-0a4b7a0f6c11',
    });
  });

  withDatabase('fills in agent, policy and job where a sync left them empty, and keeps them otherwise', async () => {
    await catalog.recordSnapshots([snapshot(hex('bbbb1'), { agentName: null, policyName: null })]);
    await catalog.recordSnapshots([snapshot(hex('bbbb1'), { agentName: 'db-1', policyName: 'hourly' })]);
    await catalog.recordSnapshots([snapshot(hex('bbbb1'), { agentName: 'someone-else', policyName: 'other' })]);
    const [entry] = (await catalog.list({ agent: 'db-1' })).filter((s) => s.id === hex('bbbb1'));
    expect(entry).toMatchObject({ agent: 'db-1', policy: 'hourly' });
  });

  withDatabase('skips snapshots of repositories that are not registered', async () => {
    await catalog.recordSnapshots([snapshot(hex('cccc1'), { repositoryName: 'gone' })]);
    expect((await catalog.list({})).map((s) => s.id)).not.toContain(hex('cccc1'));
  });

  withDatabase('finds a snapshot by id or unique prefix, refusing ambiguous, unknown and too-short ones', async () => {
    expect(await catalog.findSnapshot(hex('aaaa2'))).toEqual({
      id: hex('aaaa2'),
      repositoryName: 'main',
      hostname: 'web-1.example.com',
      paths: ['/var/www'],
      agentName: 'web-1',
      policyName: 'nightly',
      sourceKind: 'files',
    });
    expect((await catalog.findSnapshot('AAAA2')).id).toBe(hex('aaaa2'));
    expect(await apiError(catalog.findSnapshot('aaaa'))).toMatchObject({ status: 409, code: 'ambiguous' });
    expect(await apiError(catalog.findSnapshot('dddd'))).toMatchObject({ status: 404, code: 'not_found' });
    expect(await apiError(catalog.findSnapshot('aaa'))).toMatchObject({ status: 404, code: 'not_found' });
    expect(await apiError(catalog.findSnapshot("aaaa'; drop table snapshots"))).toMatchObject({ status: 404 });
  });

  withDatabase('marks forgotten snapshots, which are then no longer found', async () => {
    await catalog.markForgotten('main', [hex('aaaa1'), hex('ffff9')]);
    await catalog.markForgotten('other', [hex('aaaa2')]); // another repository's id: untouched
    const statuses = Object.fromEntries((await catalog.list({ repository: 'main' })).map((s) => [s.id, s.status]));
    expect(statuses[hex('aaaa1')]).toBe('forgotten');
    expect(statuses[hex('aaaa2')]).toBe('available');
    expect((await catalog.findSnapshot('aaaa')).id).toBe(hex('aaaa2')); // no longer ambiguous
  });

  withDatabase('filters the listing by agent, policy and repository', async () => {
    expect((await catalog.list({ policy: 'hourly' })).map((s) => s.id)).toEqual([hex('bbbb1')]);
    expect(await catalog.list({ repository: 'other' })).toEqual([]);
    expect((await catalog.list({ agent: 'web-1', repository: 'main' })).map((s) => s.id)).toEqual([hex('aaaa2'), hex('aaaa1')]);
  });
});
