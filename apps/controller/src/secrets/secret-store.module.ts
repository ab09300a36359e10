import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { SecretDirectory } from '../shared/fleet-ports';
import { SecretEntity } from './secret.entity';
import { SecretsController } from './secrets.controller';
import { SecretStoreService } from './secrets.service';

/** The secret store; provides SecretDirectory to the fleet side (job dispatch). */
@Global()
@Module({
  imports: [TypeOrmModule.forFeature([SecretEntity])],
  controllers: [SecretsController],
  providers: [SecretStoreService, { provide: SecretDirectory, useExisting: SecretStoreService }],
  exports: [SecretStoreService, SecretDirectory],
})
export class SecretStoreModule {}
