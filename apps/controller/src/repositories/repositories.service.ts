import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { RepositoryView } from '@coffer/contracts';
import { describeLocation } from '@coffer/storage';
import { Repository } from 'typeorm';
import { isPostgresError, PG_FOREIGN_KEY_VIOLATION, PG_UNIQUE_VIOLATION } from '../database/postgres-errors';
import { ApiException } from '../shared/api-exception';
import { RepositoryAccessSecret, RepositoryDirectory } from '../shared/fleet-ports';
import { SecretBox, SecretBoxError } from '../shared/secret-box';
import type { CreateRepositoryInput } from './repositories.dto';
import { RepositoryEntity } from './repository.entity';
import { RepositoryStorage } from './repository-storage';

/** What is sealed in repositories.secret_ciphertext. */
interface RepositorySecrets {
  password: string;
  environment: Record<string, string>;
}

/** Registered repositories: their locations and (sealed) secrets. */
@Injectable()
export class RepositoriesService implements RepositoryDirectory {
  private readonly logger = new Logger('Repositories');

  constructor(
    @InjectRepository(RepositoryEntity) private readonly repositories: Repository<RepositoryEntity>,
    private readonly storage: RepositoryStorage,
    private readonly secrets: SecretBox,
  ) {}

  /**
   * Registers a repository after proving the password opens it (creating it first with
   * `initialize`). 409 already_exists for a taken name; 422 when storage says no.
   */
  async create(input: CreateRepositoryInput): Promise<RepositoryView> {
    if (await this.repositories.exists({ where: { name: input.name } })) throw alreadyExists(input.name);
    const { created } = await this.storage.connect({ url: input.url, password: input.password, environment: input.environment }, { initialize: input.initialize });
    const secrets: RepositorySecrets = { password: input.password, environment: input.environment };
    const entity = this.repositories.create({
      name: input.name,
      url: input.url,
      secretCiphertext: this.secrets.sealJson(secrets, input.name),
      environmentKeys: Object.keys(input.environment).sort(),
    });
    try {
      await this.repositories.insert(entity);
    } catch (err) {
      if (isPostgresError(err, PG_UNIQUE_VIOLATION)) throw alreadyExists(input.name);
      throw err;
    }
    this.logger.log(`registered repository "${input.name}" at ${describeLocation(input.url)}${created ? ' (created in storage)' : ''}`);
    return toView(entity);
  }

  async list(): Promise<RepositoryView[]> {
    return (await this.repositories.find({ order: { name: 'ASC' } })).map(toView);
  }

  /** The repository row, or 404 not_found. */
  async get(name: string): Promise<RepositoryEntity> {
    const entity = await this.repositories.findOne({ where: { name } });
    if (!entity) throw notFound(name);
    return entity;
  }

  /**
   * Forgets a registered repository (its data in storage stays, and its catalog entries go).
   * 409 in_use while a policy names it or jobs still refer to it.
   */
  async remove(name: string): Promise<void> {
    await this.repositories.manager.transaction(async (manager) => {
      const entity = await manager.findOne(RepositoryEntity, { where: { name }, lock: { mode: 'pessimistic_write' } });
      if (!entity) throw notFound(name);
      // Policies apply with FOR SHARE on the repository row, so none can start using it meanwhile.
      const users: { name: string }[] = await manager.query(`SELECT name FROM policies WHERE document->>'repository' = $1 ORDER BY name`, [name]);
      if (users.length > 0) {
        throw new ApiException(409, 'in_use', `repository "${name}" is used by ${plural(users.length, 'policy', 'policies')}: ${users.map((u) => u.name).join(', ')}; change or delete them first`, {
          policies: users.map((u) => u.name),
        });
      }
      try {
        await manager.delete(RepositoryEntity, { id: entity.id });
      } catch (err) {
        if (isPostgresError(err, PG_FOREIGN_KEY_VIOLATION)) {
          throw new ApiException(409, 'in_use', `repository "${name}" is still referred to by jobs; it can be removed once they are gone`);
        }
        throw err;
      }
    });
    this.logger.log(`removed repository "${name}" from the controller (its data in storage is untouched)`);
  }

  /** RepositoryDirectory: the repository with its secrets opened, for a job or the catalog. */
  async resolveAccess(name: string): Promise<RepositoryAccessSecret> {
    const entity = await this.get(name);
    const secrets = this.openSecrets(entity);
    return { id: entity.id, name: entity.name, url: entity.url, password: secrets.password, environment: secrets.environment };
  }

  /**
   * Fails start-up early when the master key is not the one the stored secrets were sealed
   * with (a different COFFER_MASTER_KEY, a lost master.key), instead of at the first job.
   */
  async masterKeyProblem(): Promise<string | null> {
    const sample = await this.repositories.findOne({ where: {}, order: { createdAt: 'ASC' } });
    if (!sample) return null;
    try {
      this.secrets.openJson<RepositorySecrets>(sample.secretCiphertext, sample.name);
      return null;
    } catch (err) {
      if (err instanceof SecretBoxError) return `the master key does not open the secrets stored for repository "${sample.name}": start with the master key they were stored with (COFFER_MASTER_KEY or DATA_DIR/master.key)`;
      throw err;
    }
  }

  private openSecrets(entity: RepositoryEntity): RepositorySecrets {
    try {
      return this.secrets.openJson<RepositorySecrets>(entity.secretCiphertext, entity.name);
    } catch (err) {
      if (!(err instanceof SecretBoxError)) throw err;
      this.logger.error(`the secrets of repository "${entity.name}" do not open: ${err.message}`);
      throw new ApiException(500, 'secrets_unreadable', `the stored secrets of repository "${entity.name}" cannot be decrypted with this controller's master key`);
    }
  }
}

function toView(entity: RepositoryEntity): RepositoryView {
  return {
    id: entity.id,
    name: entity.name,
    url: describeLocation(entity.url),
    environmentKeys: entity.environmentKeys,
    createdAt: entity.createdAt.toISOString(),
  };
}

function alreadyExists(name: string): ApiException {
  return new ApiException(409, 'already_exists', `a repository named "${name}" is already registered`);
}

function notFound(name: string): ApiException {
  return new ApiException(404, 'not_found', `no repository named "${name}" is registered`);
}

function plural(count: number, one: string, many: string): string {
  return `${count} ${count === 1 ? one : many}`;
}
