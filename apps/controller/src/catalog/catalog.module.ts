import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { SnapshotCatalog } from '../shared/fleet-ports';
import { CatalogController } from './catalog.controller';
import { CatalogService } from './catalog.service';
import { SnapshotEntity } from './snapshot.entity';

/** The snapshot catalog; provides SnapshotCatalog to every module. */
@Global()
@Module({
  imports: [TypeOrmModule.forFeature([SnapshotEntity])],
  controllers: [CatalogController],
  providers: [CatalogService, { provide: SnapshotCatalog, useExisting: CatalogService }],
  exports: [CatalogService, SnapshotCatalog],
})
export class CatalogModule {}
