import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { ApplyPolicyResult, FieldProblem, nextScheduleTime, parsePolicyDocument, PolicyDocument, PolicyView } from '@coffer/contracts';
import { EntityManager, Repository } from 'typeorm';
import { isPostgresError, PG_FOREIGN_KEY_VIOLATION, PG_UNIQUE_VIOLATION } from '../database/postgres-errors';
import { ApiException } from '../shared/api-exception';
import { PolicyDirectory, StoredPolicy } from '../shared/fleet-ports';
import { PolicyEntity } from './policy.entity';
import { diffDocuments } from './policy-diff';

/** Backup policies: applied as whole documents, validated at the edge, stored normalized. */
@Injectable()
export class PoliciesService implements PolicyDirectory {
  private readonly logger = new Logger('Policies');

  constructor(@InjectRepository(PolicyEntity) private readonly policies: Repository<PolicyEntity>) {}

  /**
   * Creates or replaces the policy `name` with `body` (a policy document; its `name`, if
   * given, must be `name`). 422 invalid_policy lists every problem, including an unknown
   * repository. Applying the same document again changes nothing.
   */
  async apply(name: string, body: unknown): Promise<ApplyPolicyResult> {
    const document = await this.validate(name, body);
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.policies.manager.transaction((manager) => this.store(manager, document));
      } catch (err) {
        // Two first applies of one name at once: the loser updates the winner's row.
        if (attempt < 2 && isPostgresError(err, PG_UNIQUE_VIOLATION)) continue;
        throw err;
      }
    }
  }

  async list(): Promise<PolicyView[]> {
    const now = new Date();
    return (await this.policies.find({ order: { name: 'ASC' } })).map((entity) => this.toView(entity, now));
  }

  /** The policy, or 404 not_found. */
  async get(name: string): Promise<PolicyView> {
    const entity = await this.policies.findOne({ where: { name } });
    if (!entity) throw notFound(name);
    return this.toView(entity, new Date());
  }

  /** Deletes the policy; 404 when unknown, 409 in_use while jobs still refer to it. */
  async remove(name: string): Promise<void> {
    let deleted: number;
    try {
      deleted = (await this.policies.delete({ name })).affected ?? 0;
    } catch (err) {
      if (isPostgresError(err, PG_FOREIGN_KEY_VIOLATION)) throw new ApiException(409, 'in_use', `policy "${name}" is still referred to by jobs; it can be deleted once they are gone`);
      throw err;
    }
    if (deleted === 0) throw notFound(name);
    this.logger.log(`deleted policy "${name}"`);
  }

  /** PolicyDirectory: every enabled policy. */
  async listEnabled(): Promise<StoredPolicy[]> {
    const entities = await this.policies.createQueryBuilder('p').where(`p.document->>'enabled' = 'true'`).orderBy('p.name').getMany();
    return entities.map((entity) => this.toStored(entity)).filter((policy) => policy.document.enabled);
  }

  /** PolicyDirectory: the policy, or null. */
  async findByName(name: string): Promise<StoredPolicy | null> {
    const entity = await this.policies.findOne({ where: { name } });
    return entity ? this.toStored(entity) : null;
  }

  /** The normalized document, or 422 invalid_policy with every problem found. */
  private async validate(name: string, body: unknown): Promise<PolicyDocument> {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw invalidPolicy(name, [{ path: '(document)', reason: 'must be a JSON object: the policy document' }]);
    }
    const problems: FieldProblem[] = [];
    const given = body as Record<string, unknown>;
    if (given.name !== undefined && given.name !== name) {
      problems.push({ path: 'name', reason: `must be "${name}" (the name in the URL) or left out` });
    }
    const parsed = parsePolicyDocument({ ...given, name });
    if (!parsed.ok) problems.push(...parsed.problems);
    const repository = parsed.ok ? parsed.policy.repository : given.repository;
    const repositoryIsNamed = typeof repository === 'string' && !problems.some((p) => p.path === 'repository');
    if (repositoryIsNamed && !(await this.repositoryExists(this.policies.manager, repository))) {
      problems.push(unknownRepository(repository));
    }
    if (!parsed.ok || problems.length > 0) throw invalidPolicy(name, problems);
    return parsed.policy;
  }

  private async store(manager: EntityManager, document: PolicyDocument): Promise<ApplyPolicyResult> {
    // FOR SHARE: the repository cannot be removed until this policy that names it is stored.
    if (!(await this.repositoryExists(manager, document.repository, true))) throw invalidPolicy(document.name, [unknownRepository(document.repository)]);
    const existing = await manager.findOne(PolicyEntity, { where: { name: document.name }, lock: { mode: 'pessimistic_write' } });
    const now = new Date();
    if (!existing) {
      const created = manager.create(PolicyEntity, { name: document.name, document });
      await manager.insert(PolicyEntity, created);
      this.logger.log(`created policy "${document.name}"`);
      return { result: 'created', changes: [], policy: this.toView(created, now) };
    }
    const changes = diffDocuments(this.normalize(existing), document);
    if (changes.length === 0) return { result: 'unchanged', changes, policy: this.toView(existing, now) };
    existing.document = document;
    await manager.save(existing);
    this.logger.log(`updated policy "${document.name}": ${changes.map((c) => c.path).join(', ')}`);
    return { result: 'updated', changes, policy: this.toView(existing, now) };
  }

  private async repositoryExists(manager: EntityManager, name: string, lockForShare = false): Promise<boolean> {
    const rows: unknown[] = await manager.query(`SELECT 1 FROM repositories WHERE name = $1${lockForShare ? ' FOR SHARE' : ''}`, [name]);
    return rows.length > 0;
  }

  /**
   * The stored document read through the current schema, so documents stored before a
   * new field existed get its default and compare equal to a re-apply.
   */
  private normalize(entity: PolicyEntity): PolicyDocument {
    const parsed = parsePolicyDocument(entity.document);
    if (parsed.ok) return parsed.policy;
    this.logger.warn(`stored policy "${entity.name}" no longer passes validation (${parsed.problems.map((p) => `${p.path} ${p.reason}`).join('; ')}); re-apply it`);
    return entity.document;
  }

  private toStored(entity: PolicyEntity): StoredPolicy {
    return { id: entity.id, name: entity.name, document: this.normalize(entity), createdAt: entity.createdAt, updatedAt: entity.updatedAt };
  }

  private toView(entity: PolicyEntity, now: Date): PolicyView {
    const document = this.normalize(entity);
    return {
      id: entity.id,
      name: entity.name,
      document,
      createdAt: entity.createdAt.toISOString(),
      updatedAt: entity.updatedAt.toISOString(),
      nextRunAt: nextRunAt(document, now),
    };
  }
}

/** The earliest next firing of the policy's schedules, if it is enabled and has any. */
export function nextRunAt(document: PolicyDocument, now: Date): string | null {
  if (!document.enabled || document.schedules.length === 0) return null;
  const times = document.schedules.map((schedule) => nextScheduleTime(schedule, now).getTime());
  return new Date(Math.min(...times)).toISOString();
}

function invalidPolicy(name: string, problems: FieldProblem[]): ApiException {
  return new ApiException(422, 'invalid_policy', `policy "${name}" is invalid: ${problems.length} ${problems.length === 1 ? 'problem' : 'problems'}`, problems);
}

function unknownRepository(name: string): FieldProblem {
  return { path: 'repository', reason: `no repository named "${name}" is registered` };
}

function notFound(name: string): ApiException {
  return new ApiException(404, 'not_found', `no policy named "${name}"`);
}
