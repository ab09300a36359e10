import { Module } from '@nestjs/common';
import { FleetSharedModule } from '../shared/fleet-shared.module';
import { PkiService } from './pki.service';

/** The controller's CA: server certificate for the agent port, client certificates for agents. */
@Module({
  imports: [FleetSharedModule],
  providers: [PkiService],
  exports: [PkiService],
})
export class PkiModule {}
