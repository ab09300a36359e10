import { Module } from '@nestjs/common';

/** Placeholder: agents, enrollment, gateway, jobs and scheduler (being written). */
@Module({})
export class FleetModule {}
