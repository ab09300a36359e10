import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiConflictResponse, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags, ApiUnprocessableEntityResponse } from '@nestjs/swagger';
import type { RepositoryView } from '@coffer/contracts';
import { parseRequestBody } from '../http/request-body';
import { createRepositorySchema, CreateRepositoryRequestDto, RepositoryViewDto } from './repositories.dto';
import { RepositoriesService } from './repositories.service';

@ApiTags('repositories')
@ApiBearerAuth()
@Controller('repositories')
export class RepositoriesController {
  constructor(private readonly repositories: RepositoriesService) {}

  @Post()
  @ApiOperation({ summary: 'Register a repository (optionally creating it in storage); the password must open it' })
  @ApiBody({ type: CreateRepositoryRequestDto })
  @ApiCreatedResponse({ type: RepositoryViewDto })
  @ApiConflictResponse({ description: 'already_exists' })
  @ApiUnprocessableEntityResponse({ description: 'wrong_password, not_a_repository, storage_error' })
  create(@Body() body: unknown): Promise<RepositoryView> {
    return this.repositories.create(parseRequestBody(createRepositorySchema, body));
  }

  @Get()
  @ApiOperation({ summary: 'List registered repositories (secrets are never returned)' })
  @ApiOkResponse({ type: [RepositoryViewDto] })
  list(): Promise<RepositoryView[]> {
    return this.repositories.list();
  }

  @Delete(':name')
  @HttpCode(204)
  @ApiOperation({ summary: 'Unregister a repository; its data in storage is left alone' })
  @ApiNoContentResponse()
  @ApiConflictResponse({ description: 'in_use: a policy names it' })
  remove(@Param('name') name: string): Promise<void> {
    return this.repositories.remove(name);
  }
}
