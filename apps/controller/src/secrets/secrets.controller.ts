import { Body, Controller, Delete, Get, HttpCode, Param, Put } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiNoContentResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import type { SecretView } from '@coffer/contracts';
import { parseRequestBody } from '../http/request-body';
import { ApiException } from '../shared/api-exception';
import { secretNameParam, SecretViewDto, setSecretSchema, SetSecretRequestDto } from './secrets.dto';
import { SecretStoreService } from './secrets.service';

/** Named secrets (database passwords); values go in and never come out. */
@ApiTags('secrets')
@ApiBearerAuth()
@Controller('secrets')
export class SecretsController {
  constructor(private readonly secrets: SecretStoreService) {}

  @Put(':name')
  @HttpCode(200)
  @ApiOperation({ summary: 'Store or replace a secret; the value is never returned' })
  @ApiParam({ name: 'name', description: 'secret name: a-z, 0-9, ".", "_", "-"' })
  @ApiBody({ type: SetSecretRequestDto })
  @ApiOkResponse({ type: SecretViewDto })
  async set(@Param('name') name: string, @Body() body: unknown): Promise<SecretView> {
    const parsed = parseRequestBody(setSecretSchema, body ?? {});
    return (await this.secrets.set(parseName(name), parsed.value)).view;
  }

  @Get()
  @ApiOperation({ summary: 'List secrets (names and dates only)' })
  @ApiOkResponse({ type: [SecretViewDto] })
  list(): Promise<SecretView[]> {
    return this.secrets.list();
  }

  @Delete(':name')
  @HttpCode(204)
  @ApiOperation({ summary: 'Remove a secret; jobs that name it afterwards fail with "secret NAME does not exist"' })
  @ApiNoContentResponse()
  @ApiNotFoundResponse({ description: 'not_found' })
  remove(@Param('name') name: string): Promise<void> {
    return this.secrets.remove(parseName(name));
  }
}

function parseName(name: string): string {
  const result = secretNameParam.safeParse(name);
  if (!result.success) throw new ApiException(400, 'invalid_request', `"${name}" is not a secret name: it ${result.error.issues[0]?.message ?? 'is not valid'}`);
  return result.data;
}
