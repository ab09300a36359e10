import { Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiQuery, ApiTags, ApiUnprocessableEntityResponse } from '@nestjs/swagger';
import type { CatalogSnapshotView, CatalogSyncResult } from '@coffer/contracts';
import { parseRequestQuery } from '../http/request-body';
import { CatalogSnapshotViewDto, CatalogSyncResultDto, snapshotFilterSchema } from './catalog.dto';
import { CatalogService } from './catalog.service';

@ApiTags('catalog')
@ApiBearerAuth()
@Controller()
export class CatalogController {
  constructor(private readonly catalog: CatalogService) {}

  @Get('snapshots')
  @ApiOperation({ summary: 'Catalogued snapshots, newest first' })
  @ApiQuery({ name: 'agent', required: false })
  @ApiQuery({ name: 'policy', required: false })
  @ApiQuery({ name: 'repository', required: false })
  @ApiOkResponse({ type: [CatalogSnapshotViewDto] })
  list(@Query() query: unknown): Promise<CatalogSnapshotView[]> {
    return this.catalog.list(parseRequestQuery(snapshotFilterSchema, query));
  }

  @Post('repositories/:name/sync')
  @HttpCode(200)
  @ApiOperation({ summary: "Rebuild a repository's catalog entries from the snapshots in storage" })
  @ApiOkResponse({ type: CatalogSyncResultDto })
  @ApiNotFoundResponse({ description: 'not_found: no such repository' })
  @ApiUnprocessableEntityResponse({ description: 'the repository cannot be opened (wrong_password, not_a_repository, storage_error)' })
  sync(@Param('name') name: string): Promise<CatalogSyncResult> {
    return this.catalog.sync(name);
  }
}
