import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { PolicyDirectory } from '../shared/fleet-ports';
import { PoliciesController } from './policies.controller';
import { PoliciesService } from './policies.service';
import { PolicyEntity } from './policy.entity';

/** Backup policies; provides PolicyDirectory to every module. */
@Global()
@Module({
  imports: [TypeOrmModule.forFeature([PolicyEntity])],
  controllers: [PoliciesController],
  providers: [PoliciesService, { provide: PolicyDirectory, useExisting: PoliciesService }],
  exports: [PoliciesService, PolicyDirectory],
})
export class PoliciesModule {}
