import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { SecretView } from '@coffer/contracts';
import { In, Repository } from 'typeorm';
import { ApiException } from '../shared/api-exception';
import { SecretDirectory } from '../shared/fleet-ports';
import { SecretBox, SecretBoxError } from '../shared/secret-box';
import { SecretEntity } from './secret.entity';

/** The sealing context of a secret: its name, so a value copied to another row does not open. */
function context(name: string): string {
  return `secret:${name}`;
}

/**
 * The secret store: database passwords that policies (`passwordSecret`) and restores
 * (`--db-password-secret`) name. Values are sealed with the master key, never returned by
 * the API and never logged; they leave the controller only inside a RunJob.
 */
@Injectable()
export class SecretStoreService implements SecretDirectory {
  private readonly logger = new Logger('Secrets');

  constructor(
    @InjectRepository(SecretEntity) private readonly secrets: Repository<SecretEntity>,
    private readonly box: SecretBox,
  ) {}

  /** Creates or replaces a secret. */
  async set(name: string, value: string): Promise<{ view: SecretView; created: boolean }> {
    const ciphertext = this.box.seal(Buffer.from(value, 'utf8'), context(name));
    const rows: { created: boolean }[] = await this.secrets.query(
      `INSERT INTO secrets (name, ciphertext) VALUES ($1, $2)
       ON CONFLICT (name) DO UPDATE SET ciphertext = EXCLUDED.ciphertext, updated_at = now()
       RETURNING (xmax = 0) AS created`,
      [name, ciphertext],
    );
    const created = rows[0]?.created === true;
    this.logger.log(`${created ? 'stored' : 'replaced'} secret "${name}"`);
    return { view: toView(await this.secrets.findOneOrFail({ where: { name } })), created };
  }

  async list(): Promise<SecretView[]> {
    return (await this.secrets.find({ order: { name: 'ASC' } })).map(toView);
  }

  async remove(name: string): Promise<void> {
    const result = await this.secrets.delete({ name });
    if (!result.affected) throw new ApiException(404, 'not_found', `secret "${name}" does not exist`);
    this.logger.log(`removed secret "${name}"`);
  }

  /** SecretDirectory: the values of those of `names` that exist, for a job only. */
  async resolveSecrets(names: string[]): Promise<Map<string, string>> {
    const values = new Map<string, string>();
    if (names.length === 0) return values;
    for (const entity of await this.secrets.find({ where: { name: In(names) } })) {
      try {
        values.set(entity.name, this.box.open(entity.ciphertext, context(entity.name)).toString('utf8'));
      } catch (err) {
        if (!(err instanceof SecretBoxError)) throw err;
        this.logger.error(`secret "${entity.name}" does not open: ${err.message}`);
      }
    }
    return values;
  }
}

function toView(entity: SecretEntity): SecretView {
  return { name: entity.name, createdAt: entity.createdAt.toISOString(), updatedAt: entity.updatedAt.toISOString() };
}
