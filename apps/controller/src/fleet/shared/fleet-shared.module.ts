import { Module } from '@nestjs/common';
import { Clock, SystemClock } from './clock';
import { FleetDatabase } from './database';
import { FleetEvents } from './fleet-events';

/** What every fleet module uses: the clock, SQL access and the fleet event bus (one instance each). */
@Module({
  providers: [{ provide: Clock, useClass: SystemClock }, FleetDatabase, FleetEvents],
  exports: [Clock, FleetDatabase, FleetEvents],
})
export class FleetSharedModule {}
