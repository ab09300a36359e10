import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { RepositoryDirectory } from '../shared/fleet-ports';
import { RepositoriesController } from './repositories.controller';
import { RepositoriesService } from './repositories.service';
import { RepositoryEntity } from './repository.entity';
import { CofferRepositoryStorage, RepositoryStorage } from './repository-storage';

/** Registered repositories; provides RepositoryDirectory (and RepositoryStorage) to every module. */
@Global()
@Module({
  imports: [TypeOrmModule.forFeature([RepositoryEntity])],
  controllers: [RepositoriesController],
  providers: [
    RepositoriesService,
    { provide: RepositoryStorage, useClass: CofferRepositoryStorage },
    { provide: RepositoryDirectory, useExisting: RepositoriesService },
  ],
  exports: [RepositoriesService, RepositoryStorage, RepositoryDirectory],
})
export class RepositoriesModule {}
