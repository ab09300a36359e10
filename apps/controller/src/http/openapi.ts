import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { policyDocumentSchema } from '@coffer/contracts';
import { z } from 'zod';
import { POLICY_DOCUMENT_INPUT_SCHEMA, POLICY_DOCUMENT_SCHEMA } from '../policies/policies.dto';

/** Where the OpenAPI UI and document are served (outside /api/v1, without a token). */
export const OPENAPI_UI_PATH = 'api/docs';
export const OPENAPI_JSON_PATH = 'api/docs-json';

/**
 * Serves the OpenAPI document of every controller at /api/docs-json and its UI at /api/docs.
 * The policy document schema is generated from the same zod schema that validates it.
 */
export function setUpOpenApi(app: INestApplication, version: string): void {
  const config = new DocumentBuilder()
    .setTitle('Coffer controller API')
    .setDescription(
      'Policies, repositories, the snapshot catalog, agents and jobs. Log in with POST /api/v1/auth/login and send ' +
        '"Authorization: Bearer <token>". Errors are { "error": { "code", "message", "details" } }.',
    )
    .setVersion(version)
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'token from POST /api/v1/auth/login' })
    .build();
  const document = SwaggerModule.createDocument(app, config);
  document.components ??= {};
  document.components.schemas ??= {};
  document.components.schemas[POLICY_DOCUMENT_INPUT_SCHEMA] = jsonSchemaOf('input');
  document.components.schemas[POLICY_DOCUMENT_SCHEMA] = jsonSchemaOf('output');
  SwaggerModule.setup(OPENAPI_UI_PATH, app, document, { jsonDocumentUrl: OPENAPI_JSON_PATH, yamlDocumentUrl: 'api/docs-yaml' });
}

function jsonSchemaOf(io: 'input' | 'output'): Record<string, unknown> {
  const schema = z.toJSONSchema(policyDocumentSchema, { io, unrepresentable: 'any' }) as Record<string, unknown>;
  delete schema.$schema; // a component inside the OpenAPI document, not a standalone JSON Schema
  return schema;
}
