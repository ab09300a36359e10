import { Body, Controller, Delete, Get, HttpCode, Param, Put } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiNoContentResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags, ApiUnprocessableEntityResponse } from '@nestjs/swagger';
import type { ApplyPolicyResult, PolicyView } from '@coffer/contracts';
import { ApplyPolicyResultDto, POLICY_DOCUMENT_INPUT_SCHEMA, PolicyViewDto } from './policies.dto';
import { PoliciesService } from './policies.service';

@ApiTags('policies')
@ApiBearerAuth()
@Controller('policies')
export class PoliciesController {
  constructor(private readonly policies: PoliciesService) {}

  @Put(':name')
  @ApiOperation({ summary: 'Create or replace a policy from its document (the JSON form of coffer apply -f policy.yaml)' })
  @ApiBody({ schema: { $ref: `#/components/schemas/${POLICY_DOCUMENT_INPUT_SCHEMA}` } })
  @ApiOkResponse({ type: ApplyPolicyResultDto })
  @ApiUnprocessableEntityResponse({ description: 'invalid_policy; details lists every problem as { path, reason }' })
  apply(@Param('name') name: string, @Body() body: unknown): Promise<ApplyPolicyResult> {
    return this.policies.apply(name, body);
  }

  @Get()
  @ApiOperation({ summary: 'List policies with their next scheduled run' })
  @ApiOkResponse({ type: [PolicyViewDto] })
  list(): Promise<PolicyView[]> {
    return this.policies.list();
  }

  @Get(':name')
  @ApiOperation({ summary: 'One policy' })
  @ApiOkResponse({ type: PolicyViewDto })
  @ApiNotFoundResponse({ description: 'not_found' })
  get(@Param('name') name: string): Promise<PolicyView> {
    return this.policies.get(name);
  }

  @Delete(':name')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a policy (its snapshots stay in the catalog and in storage)' })
  @ApiNoContentResponse()
  @ApiNotFoundResponse({ description: 'not_found' })
  remove(@Param('name') name: string): Promise<void> {
    return this.policies.remove(name);
  }
}
