import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { PROTO_PACKAGE, type ProtoCatalog, type ProtoField } from '@qnet/contracts';

type Schema = Record<string, unknown>;

function fieldSchema(f: ProtoField): Schema {
  const scalar: Schema = /int|fixed/.test(f.type)
    ? { type: 'integer' }
    : /double|float/.test(f.type)
      ? { type: 'number' }
      : f.type === 'bool'
        ? { type: 'boolean' }
        : f.type === 'string' || f.type === 'bytes'
          ? { type: 'string' }
          : f.type.startsWith('google.protobuf.')
            ? { type: 'object' }
            : { $ref: `#/components/schemas/${f.type.split('.').pop()}` };
  if (f.map) return { type: 'object', additionalProperties: scalar };
  return f.repeated ? { type: 'array', items: scalar } : scalar;
}

/** OpenAPI at /docs: the REST routes from decorators plus one Connect path per proto RPC. */
export function setupOpenApi(app: INestApplication, catalog: ProtoCatalog): OpenAPIObject {
  const doc = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('QuantumNet API')
      .setDescription(
        'Network control plane. Connect-style unary JSON: POST /limiquantix.network.v1.<Service>/<Method>.',
      )
      .setVersion('0.1.0')
      .addBearerAuth()
      .build(),
  );
  const schemas: Record<string, Schema> = (doc.components!.schemas ??= {}) as Record<
    string,
    Schema
  >;
  const addSchema = (name: string): void => {
    if (schemas[name] || name.startsWith('google.')) return;
    const fields = catalog.fields(name);
    schemas[name] = {
      type: 'object',
      properties: Object.fromEntries(fields.map((f) => [f.name, fieldSchema(f)])),
    };
    for (const f of fields) {
      if (!/^(u?int|s?fixed|double|float|bool|string|bytes|google\.)/.test(f.type))
        addSchema(f.type.split('.').pop()!);
    }
  };
  for (const service of catalog.serviceNames()) {
    for (const m of catalog.methods(service)) {
      const response = m.responseType.replace(`${PROTO_PACKAGE}.`, '');
      addSchema(m.requestType);
      if (!response.startsWith('google.')) addSchema(response);
      doc.paths[`/${PROTO_PACKAGE}.${service}/${m.name}`] = {
        post: {
          tags: [service],
          operationId: `${service}_${m.name}`,
          requestBody: {
            required: true,
            content: {
              'application/json': { schema: { $ref: `#/components/schemas/${m.requestType}` } },
            },
          },
          responses: {
            '200': {
              description: response,
              content: {
                'application/json': {
                  schema: response.startsWith('google.')
                    ? { type: 'object' }
                    : { $ref: `#/components/schemas/${response}` },
                },
              },
            },
            '400': { description: 'invalid_argument: the body names the failing fields' },
            '404': { description: 'not_found' },
            '409': { description: 'already_exists' },
            '503': { description: 'unavailable: the service is not running' },
            '504': { description: 'deadline_exceeded' },
          },
        },
      };
    }
  }
  SwaggerModule.setup('docs', app, doc);
  return doc;
}
