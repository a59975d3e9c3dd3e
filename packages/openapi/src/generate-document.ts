import type { z } from 'zod';
import type { ApiSpec, OperationSpec, ResponseSpec } from './api-spec.js';
import type {
  HeaderObject,
  MediaTypeObject,
  OpenApiDocument,
  OperationObject,
  ParameterObject,
  PathItemObject,
  ReferenceObject,
  ResponseObject,
  SecurityRequirement,
} from './document.js';
import { SchemaGenerator } from './schema-generator.js';

/** The JSON Schema dialect of OpenAPI 3.1 Schema Objects. */
const OAS_DIALECT = 'https://spec.openapis.org/oas/3.1/dialect/base';

function parameters(generator: SchemaGenerator, operation: OperationSpec): ParameterObject[] {
  const of = (object: z.ZodObject | undefined, location: 'path' | 'query'): ParameterObject[] =>
    Object.entries(object?.shape ?? {}).map(([name, schema]) => {
      const description = operation.parameterDescriptions?.[name];
      return {
        name,
        in: location,
        // A query parameter is optional when the schema takes its absence (optional or defaulted).
        required: location === 'path' || !schema.safeParse(undefined).success,
        ...(description === undefined ? {} : { description }),
        schema: generator.use(schema, 'input'),
      };
    });
  const all = [...of(operation.params, 'path'), ...of(operation.query, 'query')];
  const templated = [...operation.path.matchAll(/\{([^}]+)\}/g)].map((match) => match[1]);
  const declared = all.filter((p) => p.in === 'path').map((p) => p.name);
  if (templated.join() !== declared.join()) {
    throw new Error(`${operation.operationId}: path ${operation.path} and its params (${declared.join(', ')}) disagree`);
  }
  return all;
}

function response(generator: SchemaGenerator, spec: ResponseSpec): ResponseObject {
  const content: Record<string, MediaTypeObject> = {};
  if (spec.json !== undefined) content['application/json'] = { schema: generator.use(spec.json, 'output') };
  if (spec.text !== undefined) content[spec.text.mediaType] = { schema: generator.use(spec.text.schema, 'output') };
  const headers: Record<string, HeaderObject> = {};
  for (const [name, header] of Object.entries(spec.headers ?? {})) {
    headers[name] = { description: header.description, required: header.required, schema: generator.use(header.schema, 'output') };
  }
  return {
    description: spec.description,
    ...(Object.keys(headers).length > 0 ? { headers } : {}),
    ...(Object.keys(content).length > 0 ? { content } : {}),
  };
}

/**
 * Generates an OpenAPI 3.1 document from an API spec: every schema in it comes from the zod
 * schemas the code validates and answers with, through `z.toJSONSchema`.
 */
export function generateDocument(spec: ApiSpec): OpenApiDocument {
  const generator = new SchemaGenerator(spec.components, spec.unrepresentable);
  const sharedResponses: Record<string, ResponseObject> = {};
  const sharedSpecs = new Map<string, ResponseSpec>();
  const paths: Record<string, PathItemObject> = {};

  const security = (auth: string | null): SecurityRequirement[] => {
    if (auth === null) return [];
    if (spec.securitySchemes[auth] === undefined) throw new Error(`unknown security scheme ${auth}`);
    return [{ [auth]: [] }];
  };

  for (const operation of spec.operations) {
    const responses: Record<string, ResponseObject | ReferenceObject> = {};
    for (const [status, responseSpec] of Object.entries(operation.responses)) {
      const name = responseSpec.component;
      if (name === undefined) {
        responses[status] = response(generator, responseSpec);
        continue;
      }
      const known = sharedSpecs.get(name);
      if (known !== undefined && known !== responseSpec) throw new Error(`two shared responses are named ${name}`);
      if (known === undefined) {
        sharedSpecs.set(name, responseSpec);
        sharedResponses[name] = response(generator, responseSpec);
      }
      responses[status] = { $ref: `#/components/responses/${name}` };
    }
    const params = parameters(generator, operation);
    const body = operation.body;
    const object: OperationObject = {
      operationId: operation.operationId,
      summary: operation.summary,
      ...(operation.description === undefined ? {} : { description: operation.description }),
      tags: [operation.tag],
      ...(operation.auth === undefined ? {} : { security: security(operation.auth) }),
      ...(params.length > 0 ? { parameters: params } : {}),
      ...(body === undefined
        ? {}
        : {
            requestBody: {
              description: body.description,
              required: true,
              content: {
                'application/json': {
                  schema: generator.use(body.schema, 'input'),
                  ...(body.example === undefined ? {} : { example: body.example }),
                },
              },
            },
          }),
      responses,
    };
    const item = (paths[operation.path] ??= {});
    if (item[operation.method] !== undefined) throw new Error(`${operation.method} ${operation.path} is specified twice`);
    item[operation.method] = object;
  }

  const schemas = generator.generate();
  return generator.resolve<OpenApiDocument>({
    openapi: '3.1.0',
    info: spec.info,
    jsonSchemaDialect: OAS_DIALECT,
    tags: spec.tags,
    security: security(spec.defaultAuth),
    paths,
    components: {
      schemas,
      responses: Object.fromEntries(Object.entries(sharedResponses).sort(([a], [b]) => a.localeCompare(b))),
      securitySchemes: spec.securitySchemes,
    },
  });
}
