/**
 * JobStore on a real PostgreSQL database with the controller's migrations applied: the
 * dispatcher's fast path (jobs inserted already dispatched) and the later stamp of their
 * `dispatched` transitions.
 */
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { CatalogSchema1763800000001 } from '../../database/migrations/1763800000001-catalog-schema';
import { FleetSchema1763800000002 } from '../../database/migrations/1763800000002-fleet-schema';
import { DatabaseJobsAndSecrets1763800000003 } from '../../database/migrations/1763800000003-database-jobs-and-secrets';
import { createTestDatabaseOrSkip, TestDatabase } from '../../test-support/controller-process';
import { FleetDatabase } from '../shared/database';
import { JobStore } from './job.store';
import type { JobDraft } from './job.types';

let database: TestDatabase | undefined;
let dataSource: DataSource;
let db: FleetDatabase;
let store: JobStore;
const agentId = randomUUID();

function draft(): JobDraft {
  return {
    id: randomUUID(),
    kind: 'backup',
    status: 'queued',
    trigger: 'manual',
    policyId: randomUUID(),
    policyName: 'nightly',
    agentId,
    repositoryName: 'main',
    scheduleKey: null,
    scheduledFor: new Date('2026-01-01T02:00:00Z'),
    startDeadlineSeconds: 3600,
    late: false,
    timeoutSeconds: 0,
    attempt: 1,
    maxAttempts: 1,
    retryBackoffSeconds: 300,
    maxJobsPerAgent: 1,
    retryOf: null,
    spec: { kind: 'backup', sources: [{ files: { paths: ['/srv'], include: [], exclude: [], oneFileSystem: false } }], tags: [] },
    reason: null,
  };
}

beforeAll(async () => {
  database = await createTestDatabaseOrSkip();
  if (!database) return;
  dataSource = new DataSource({
    type: 'postgres',
    url: database.url,
    entities: [],
    migrations: [CatalogSchema1763800000001, FleetSchema1763800000002, DatabaseJobsAndSecrets1763800000003],
    migrationsRun: true,
    synchronize: false,
  });
  await dataSource.initialize();
  await dataSource.query(`INSERT INTO agents (id, name, cert_fingerprint, cert_not_after) VALUES ($1, 'web-1', 'fp-web-1', now() + interval '1 year')`, [agentId]);
  db = new FleetDatabase(dataSource);
  store = new JobStore(db);
});

afterAll(async () => {
  if (dataSource?.isInitialized) await dataSource.destroy();
  await database?.drop();
});

const withDatabase = (name: string, test: () => Promise<void>) => it(name, async () => (database ? test() : undefined));

describe('JobStore', () => {
  withDatabase('stampDispatched moves only the dispatched transitions stored with the jobs', async () => {
    const storedAt = new Date('2026-01-01T02:00:00.000Z');
    const sent = draft();
    const queued = draft();
    const inserted = await store.insert(db, [sent, queued], storedAt, new Set([sent.id]));
    expect(new Set(inserted)).toEqual(new Set([sent.id, queued.id]));
    expect((await store.findById(sent.id))?.status).toBe('dispatched');

    const handedOver = new Date(storedAt.getTime() + 40);
    await store.stampDispatched(
      [
        { jobId: sent.id, at: handedOver },
        { jobId: queued.id, at: handedOver }, // has no dispatched transition: nothing to move
      ],
      storedAt,
    );
    const history = async (id: string) => (await store.transitions(id)).map((t) => [t.status, t.at.toISOString()]);
    expect(await history(sent.id)).toEqual([
      ['queued', storedAt.toISOString()],
      ['dispatched', handedOver.toISOString()],
    ]);
    expect(await history(queued.id)).toEqual([['queued', storedAt.toISOString()]]);
    // The job row keeps the commit-side time (re-sending goes by it).
    expect((await store.findById(sent.id))?.dispatchedAt?.toISOString()).toBe(storedAt.toISOString());

    // Only transitions still at the insert time move: a stamp is never applied twice.
    await store.stampDispatched([{ jobId: sent.id, at: new Date(storedAt.getTime() + 5000) }], storedAt);
    expect(await history(sent.id)).toEqual([
      ['queued', storedAt.toISOString()],
      ['dispatched', handedOver.toISOString()],
    ]);
  });
});
