import { join } from 'node:path';
import { DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { DatabaseConnection } from './database-connection';
import { TypeOrmLogger } from './typeorm-logger';

/** How long a query may wait for a free pooled connection before failing (instead of hanging). */
const POOL_WAIT_MS = 30_000;

/**
 * TypeORM on the controller's PostgreSQL. The schema comes only from migrations
 * (dist/database/migrations/*.js), run at start-up; entities register themselves with
 * TypeOrmModule.forFeature in their own modules.
 */
@Module({})
export class DatabaseModule {
  static forRoot(connection: DatabaseConnection): DynamicModule {
    return {
      module: DatabaseModule,
      imports: [
        TypeOrmModule.forRootAsync({
          useFactory: () => ({
            type: 'postgres' as const,
            ...('url' in connection.target
              ? { url: connection.target.url }
              : { host: connection.target.socketDir, port: connection.target.port, username: connection.target.username, database: connection.target.database }),
            autoLoadEntities: true,
            synchronize: false,
            migrationsRun: true,
            migrations: [join(__dirname, 'migrations', '*.js')],
            installExtensions: false,
            poolSize: connection.poolSize,
            logger: new TypeOrmLogger(),
            logging: ['error', 'warn', 'migration'],
            maxQueryExecutionTime: 2000,
            // Idle connections are kept: the embedded server has one slot, and a closing
            // connection could still hold it when the pool opens the next one.
            extra: { connectionTimeoutMillis: POOL_WAIT_MS, idleTimeoutMillis: connection.embedded ? 0 : 30_000 },
            // Start-up checked the server already; a failure here (a migration) is final.
            retryAttempts: 1,
            toRetry: () => false,
          }),
        }),
      ],
    };
  }
}
