import { DynamicModule, Module } from '@nestjs/common';
import { AuthModule } from './auth/auth.module';
import { CatalogModule } from './catalog/catalog.module';
import { AppConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import type { DatabaseConnection } from './database/database-connection';
import { DatabaseModule } from './database/database.module';
import { FleetModule } from './fleet/fleet.module';
import { HealthModule } from './health/health.module';
import { PoliciesModule } from './policies/policies.module';
import { RepositoriesModule } from './repositories/repositories.module';
import { SecretStoreModule } from './secrets/secret-store.module';
import { SecretsModule } from './shared/secrets.module';

/**
 * The controller: the catalog side (people, repositories, policies, snapshot catalog,
 * health) and the fleet side (agents, jobs, scheduler), on one database.
 */
@Module({})
export class AppModule {
  static forRoot(config: AppConfig, database: DatabaseConnection): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        DatabaseModule.forRoot(database),
        SecretsModule,
        AuthModule,
        HealthModule,
        RepositoriesModule,
        SecretStoreModule,
        PoliciesModule,
        CatalogModule,
        FleetModule,
      ],
    };
  }
}
