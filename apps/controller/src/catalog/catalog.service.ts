import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { CatalogSnapshotView, CatalogSyncResult } from '@coffer/contracts';
import type { SnapshotRef } from '@coffer/repository';
import { EntityManager, Repository } from 'typeorm';
import { RepositoryStorage } from '../repositories/repository-storage';
import { ApiException } from '../shared/api-exception';
import { CatalogSnapshotRef, RepositoryDirectory, SnapshotCatalog, SnapshotRecordInput } from '../shared/fleet-ports';
import type { SnapshotFilter } from './catalog.dto';
import { SnapshotEntity } from './snapshot.entity';

/** A catalog row to insert, by repository id. */
type SnapshotRow = Omit<SnapshotRecordInput, 'repositoryName'> & { repositoryId: string };

const COLUMNS = [
  'repository_id',
  'snapshot_id',
  'agent_name',
  'hostname',
  'policy_name',
  'job_id',
  'source_kind',
  'paths',
  'tags',
  'parent_id',
  'time',
  'files',
  'bytes_read',
  'bytes_new',
  'bytes_stored',
  'duration_seconds',
] as const;

/** Rows per INSERT statement (PostgreSQL takes at most 65535 parameters). */
const INSERT_BATCH = 500;

/** Tag a policy's backups carry: "policy=NAME". */
const POLICY_TAG = /^policy=(.+)$/;

/**
 * The snapshot catalog: an index in PostgreSQL of the snapshots stored in the repositories,
 * fed by job results and rebuilt from storage by a sync. Never the only copy.
 */
@Injectable()
export class CatalogService implements SnapshotCatalog {
  private readonly logger = new Logger('Catalog');

  constructor(
    @InjectRepository(SnapshotEntity) private readonly snapshots: Repository<SnapshotEntity>,
    private readonly repositories: RepositoryDirectory,
    private readonly storage: RepositoryStorage,
  ) {}

  /**
   * SnapshotCatalog: records snapshots a job reported. Recording one again changes nothing,
   * except that agent, policy and job fill in where a sync left them empty.
   */
  async recordSnapshots(snapshots: SnapshotRecordInput[]): Promise<void> {
    if (snapshots.length === 0) return;
    const ids = await this.repositoryIds(this.snapshots.manager, [...new Set(snapshots.map((s) => s.repositoryName))]);
    const rows: SnapshotRow[] = [];
    for (const { repositoryName, ...snapshot } of snapshots) {
      const repositoryId = ids.get(repositoryName);
      // The repository was removed while the job ran: nothing to index it under.
      if (repositoryId === undefined) this.logger.warn(`snapshot ${snapshot.id} names repository "${repositoryName}", which is not registered: not catalogued`);
      else rows.push({ ...snapshot, repositoryId });
    }
    await this.insertRows(this.snapshots.manager, rows, 'fill-in');
  }

  /** SnapshotCatalog: marks snapshots that retention removed as forgotten. */
  async markForgotten(repositoryName: string, snapshotIds: string[]): Promise<void> {
    if (snapshotIds.length === 0) return;
    await this.snapshots.manager.query(
      `UPDATE snapshots s SET status = 'forgotten'
         FROM repositories r
        WHERE s.repository_id = r.id AND r.name = $1 AND s.snapshot_id = ANY($2::text[])`,
      [repositoryName, snapshotIds],
    );
  }

  /** SnapshotCatalog: the available snapshot with this id or unique id prefix (at least 4 hex digits). */
  async findSnapshot(idOrPrefix: string, repositoryName?: string): Promise<CatalogSnapshotRef> {
    const prefix = idOrPrefix.trim().toLowerCase();
    if (!/^[0-9a-f]{4,64}$/.test(prefix)) {
      throw new ApiException(404, 'not_found', `"${idOrPrefix}" is not a snapshot id: give at least 4 hex digits of one (GET /api/v1/snapshots lists them)`);
    }
    const query = this.query()
      .andWhere('s.snapshot_id LIKE :prefix', { prefix: `${prefix}%` })
      .andWhere(`s.status = 'available'`);
    if (repositoryName !== undefined) query.andWhere('r.name = :repository', { repository: repositoryName });
    const matches = await query.limit(10).getMany();
    if (matches.length === 0) throw new ApiException(404, 'not_found', `no snapshot ${prefix} in the catalog${repositoryName !== undefined ? ` of repository "${repositoryName}"` : ''}`);
    if (matches.length > 1) {
      throw new ApiException(409, 'ambiguous', `snapshot id ${prefix} is ambiguous (${matches.length === 10 ? '10 or more' : matches.length} snapshots start with it): give more digits`, {
        candidates: matches.map((m) => m.snapshotId),
      });
    }
    const [match] = matches;
    return { id: match.snapshotId, repositoryName: match.repository!.name, hostname: match.hostname, paths: match.paths, agentName: match.agentName, policyName: match.policyName, sourceKind: match.sourceKind };
  }

  /** Catalogued snapshots, newest first. */
  async list(filter: SnapshotFilter): Promise<CatalogSnapshotView[]> {
    const query = this.query().orderBy('s.time', 'DESC').addOrderBy('s.snapshot_id', 'ASC');
    if (filter.agent !== undefined) query.andWhere('s.agent_name = :agent', { agent: filter.agent });
    if (filter.policy !== undefined) query.andWhere('s.policy_name = :policy', { policy: filter.policy });
    if (filter.repository !== undefined) query.andWhere('r.name = :repository', { repository: filter.repository });
    return (await query.getMany()).map(toView);
  }

  /**
   * Rebuilds a repository's catalog entries from storage: snapshots not yet catalogued are
   * added (policy from their "policy=NAME" tag), entries whose snapshot is gone are marked
   * forgotten, and entries of snapshots still there are kept with what jobs recorded.
   */
  async sync(repositoryName: string): Promise<CatalogSyncResult> {
    const access = await this.repositories.resolveAccess(repositoryName);
    const stored = await this.storage.listSnapshots(access);
    const storedIds = new Set(stored.map((ref) => ref.id));
    const { added, removed } = await this.snapshots.manager.transaction(async (manager) => {
      const existing: { snapshot_id: string; status: string }[] = await manager.query(
        `SELECT snapshot_id, status FROM snapshots WHERE repository_id = $1 FOR UPDATE`,
        [access.id],
      );
      const known = new Set(existing.map((row) => row.snapshot_id));
      const missing = stored.filter((ref) => !known.has(ref.id)).map((ref) => rowFromStorage(access.id, ref));
      const inserted = await this.insertRows(manager, missing, 'keep-existing');
      const gone = existing.filter((row) => row.status === 'available' && !storedIds.has(row.snapshot_id)).map((row) => row.snapshot_id);
      const back = existing.filter((row) => row.status === 'forgotten' && storedIds.has(row.snapshot_id)).map((row) => row.snapshot_id);
      await this.setStatus(manager, access.id, gone, 'forgotten');
      await this.setStatus(manager, access.id, back, 'available');
      return { added: inserted, removed: gone.length };
    });
    this.logger.log(`synced the catalog of "${repositoryName}": ${stored.length} in storage, ${added} added, ${removed} gone`);
    return { repository: repositoryName, total: stored.length, added, removed };
  }

  private query() {
    return this.snapshots.createQueryBuilder('s').innerJoinAndSelect('s.repository', 'r');
  }

  private async repositoryIds(manager: EntityManager, names: string[]): Promise<Map<string, string>> {
    const rows: { id: string; name: string }[] = await manager.query(`SELECT id, name FROM repositories WHERE name = ANY($1::text[])`, [names]);
    return new Map(rows.map((row) => [row.name, row.id]));
  }

  private async setStatus(manager: EntityManager, repositoryId: string, snapshotIds: string[], status: 'available' | 'forgotten'): Promise<void> {
    if (snapshotIds.length === 0) return;
    await manager.query(`UPDATE snapshots SET status = $3 WHERE repository_id = $1 AND snapshot_id = ANY($2::text[])`, [repositoryId, snapshotIds, status]);
  }

  /**
   * Inserts rows, idempotent on (repository, snapshot id). On a conflict, 'fill-in' sets
   * agent, policy and job where they are still empty; 'keep-existing' leaves the row alone.
   * Returns how many rows were new.
   */
  private async insertRows(manager: EntityManager, rows: SnapshotRow[], onConflict: 'fill-in' | 'keep-existing'): Promise<number> {
    const conflict =
      onConflict === 'fill-in'
        ? `DO UPDATE SET agent_name = COALESCE(snapshots.agent_name, EXCLUDED.agent_name),
                         policy_name = COALESCE(snapshots.policy_name, EXCLUDED.policy_name),
                         job_id = COALESCE(snapshots.job_id, EXCLUDED.job_id)`
        : 'DO NOTHING';
    // One statement may not touch a row twice: the first report of a snapshot wins.
    const unique = [...new Map(rows.map((row) => [`${row.repositoryId}/${row.id}`, row])).values()].reverse();
    let inserted = 0;
    for (let start = 0; start < unique.length; start += INSERT_BATCH) {
      const batch = unique.slice(start, start + INSERT_BATCH);
      const parameters: unknown[] = [];
      const tuples = batch.map((row) => {
        const values = [
          row.repositoryId,
          row.id,
          row.agentName,
          row.hostname,
          row.policyName,
          row.jobId,
          row.sourceKind,
          row.paths,
          row.tags,
          row.parentId,
          row.time,
          row.files,
          row.bytesRead,
          row.bytesNew,
          row.bytesStored,
          row.durationSeconds,
        ];
        const placeholders = values.map((value) => {
          parameters.push(value);
          return `$${parameters.length}`;
        });
        return `(${placeholders.join(', ')})`;
      });
      // xmax = 0 only on rows this statement inserted (not on ones it updated).
      const result: { inserted: boolean }[] = await manager.query(
        `INSERT INTO snapshots (${COLUMNS.join(', ')}) VALUES ${tuples.join(', ')}
         ON CONFLICT (repository_id, snapshot_id) ${conflict}
         RETURNING (xmax = 0) AS inserted`,
        parameters,
      );
      inserted += result.filter((row) => row.inserted).length;
    }
    return inserted;
  }
}

function rowFromStorage(repositoryId: string, { id, snapshot }: SnapshotRef): SnapshotRow {
  const policyTag = snapshot.tags.map((tag) => POLICY_TAG.exec(tag)).find((match) => match !== null);
  return {
    repositoryId,
    id,
    agentName: null,
    policyName: policyTag ? policyTag[1] : null,
    jobId: null,
    time: new Date(snapshot.time),
    hostname: snapshot.host,
    sourceKind: snapshot.sourceKind,
    paths: snapshot.paths,
    tags: snapshot.tags,
    parentId: snapshot.parent ?? null,
    files: snapshot.stats.files,
    bytesRead: snapshot.stats.bytesRead,
    bytesNew: snapshot.stats.bytesNew,
    bytesStored: snapshot.stats.bytesStored,
    durationSeconds: snapshot.stats.durationMs / 1000,
  };
}

function toView(entity: SnapshotEntity): CatalogSnapshotView {
  return {
    id: entity.snapshotId,
    shortId: entity.snapshotId.slice(0, 8),
    repository: entity.repository!.name,
    agent: entity.agentName,
    hostname: entity.hostname,
    policy: entity.policyName,
    sourceKind: entity.sourceKind,
    paths: entity.paths,
    tags: entity.tags,
    time: entity.time.toISOString(),
    files: entity.files,
    bytesRead: entity.bytesRead,
    bytesNew: entity.bytesNew,
    bytesStored: entity.bytesStored,
    durationSeconds: entity.durationSeconds,
    status: entity.status,
    jobId: entity.jobId,
  };
}
