import { expect } from 'chai';
import { z } from 'zod';
import { ERROR_CODES } from '@herald/contracts';
import type { ErrorCode } from '@herald/contracts';
import type { OperationSpec } from './api-spec.js';
import { ResponseConformance, validateOpenApiDocument } from './conformance/index.js';
import type { OpenApiDocument } from './document.js';
import { generateDocument } from './generate-document.js';
import { gatewayOpenApiDocument, ingestOpenApiDocument } from './index.js';

const documents = { ingest: ingestOpenApiDocument, gateway: gatewayOpenApiDocument };

function specWith(operation: Omit<OperationSpec, 'operationId' | 'summary' | 'tag'>, components: { name: string; schema: z.ZodType }[] = []) {
  return {
    info: { title: 't', version: '1', description: 'd' },
    tags: [{ name: 't', description: 'd' }],
    securitySchemes: { key: { type: 'http', scheme: 'bearer', description: 'd' } } as const,
    defaultAuth: 'key',
    components,
    operations: [{ operationId: 'op', summary: 's', tag: 't', ...operation }],
  };
}

describe('OpenAPI documents', () => {
  for (const [app, document] of Object.entries(documents)) {
    it(`generates the ${app} document as valid OpenAPI 3.1.0, once, frozen`, () => {
      expect(document().openapi).to.equal('3.1.0');
      expect(validateOpenApiDocument(document())).to.deep.equal([]);
      expect(document()).to.equal(document());
      expect(Object.isFrozen(document().paths)).to.equal(true);
    });

    it(`puts every error response of the ${app} document under the status its code maps to`, () => {
      const { paths, components } = document();
      for (const [path, item] of Object.entries(paths)) {
        for (const [method, operation] of Object.entries(item)) {
          for (const [status, response] of Object.entries(operation.responses)) {
            if (!('$ref' in response)) continue;
            const shared = components.responses[response.$ref.split('/').pop()!]!;
            const code = /^`([a-z_]+)`/.exec(shared.description)?.[1] as ErrorCode;
            expect(ERROR_CODES[code], `${method} ${path} ${status}`).to.equal(Number(status));
          }
        }
      }
    });

    it(`gives request examples of the ${app} document that its schemas accept`, () => {
      const checker = new ResponseConformance(document());
      for (const [path, item] of Object.entries(document().paths)) {
        for (const [method, operation] of Object.entries(item)) {
          const example: unknown = operation.requestBody?.content['application/json']?.example;
          if (example !== undefined) checker.checkRequest({ method, url: path, body: example });
        }
      }
    });
  }

  it('reports what is wrong with a broken document', () => {
    const broken = structuredClone(ingestOpenApiDocument()) as OpenApiDocument;
    const post = broken.paths['/v1/events']!.post!;
    (post.parameters ??= []).push({ name: 'x', in: 'body' as 'query', required: true, schema: { type: 'strng' as 'string' } });
    post.responses['202'] = { $ref: '#/components/responses/Nothing' };
    broken.components.schemas['AcceptResult'] = { $ref: '#/components/schemas/Missing' };
    const problems = validateOpenApiDocument(broken).join('\n');
    expect(problems).to.contain('/paths/~1v1~1events/post/parameters/0');
    expect(problems).to.contain('/components/schemas/AcceptResult: $ref #/components/schemas/Missing does not resolve');
    expect(problems).to.contain('/paths/~1v1~1events/post/responses/202: $ref #/components/responses/Nothing does not resolve');
  });

  it('leaves answers open to new fields but requests to strict objects closed, as the zod schemas are', () => {
    const { components } = ingestOpenApiDocument();
    expect(components.schemas['AcceptResult']).to.not.have.property('additionalProperties');
    expect(components.schemas['EventInput']).to.have.property('additionalProperties', false);
  });

  it('refuses a schema JSON Schema cannot express unless the spec says how to document it', () => {
    const custom = z.custom<string>((value) => typeof value === 'string');
    const spec = specWith({ method: 'post', path: '/x', body: { schema: z.object({ custom }), description: 'd' }, responses: { 204: { description: 'd' } } });
    expect(() => generateDocument(spec)).to.throw(/Custom types cannot be represented/);
    expect(generateDocument({ ...spec, unrepresentable: new Map([[custom, { type: 'string' }]]) }).paths['/x']).to.have.nested.property(
      'post.requestBody.content.application/json.schema.properties.custom.type',
      'string',
    );
  });

  it('refuses a named schema that reads differently as a request and as an answer', () => {
    const millis = z.iso.datetime().transform((iso) => Date.parse(iso)).pipe(z.number());
    const spec = specWith(
      { method: 'post', path: '/x', body: { schema: millis, description: 'd' }, responses: { 200: { description: 'd', json: millis } } },
      [{ name: 'Millis', schema: millis }],
    );
    expect(() => generateDocument(spec)).to.throw(/Millis differs between requests and responses/);
  });
});
