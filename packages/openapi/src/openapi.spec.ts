import { expect } from 'chai';
import { z } from 'zod';
import { ERROR_CODES } from '@herald/contracts';
import type { ErrorCode } from '@herald/contracts';
import { LICENSE } from './common.js';
import { ResponseConformance, validateOpenApiDocument } from './conformance/index.js';
import type { OpenApiDocument } from './document.js';
import { generateDocument } from './generate-document.js';
import type { DocumentSpec } from './generate-document.js';
import { gatewayOpenApiDocument, ingestOpenApiDocument } from './index.js';

const documents = { ingest: ingestOpenApiDocument, gateway: gatewayOpenApiDocument };

/** A document of one `POST /x` operation taking `body` and answering `answer`. */
function specWith(body: z.ZodType, answer: z.ZodType): DocumentSpec {
  return {
    info: { title: 't', version: '1', description: 'd', license: LICENSE },
    servers: [{ url: '/', description: 'd' }],
    components: {},
    schemas: [],
    paths: {
      '/x': {
        post: {
          requestBody: { required: true, content: { 'application/json': { schema: body } } },
          responses: { 200: { description: 'd', content: { 'application/json': { schema: answer } } } },
        },
      },
    },
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

    it(`names a license and the ${app} that serves the document as its first server`, () => {
      expect(document().info.license).to.deep.equal(LICENSE);
      expect(document().servers[0]?.url).to.equal('/');
    });

    it(`documents 401 for every ${app} operation that takes a credential, and 400 for every one that takes input`, () => {
      // In place of Redocly's operation-4xx-response (off in redocly.yaml): the operational endpoints answer no 4XX.
      const { paths, security } = document();
      for (const [path, item] of Object.entries(paths)) {
        for (const [method, operation] of Object.entries(item)) {
          const statuses = Object.keys(operation.responses);
          if ((operation.security ?? security).length > 0) expect(statuses, `${method} ${path}`).to.include('401');
          if (operation.parameters !== undefined || operation.requestBody !== undefined) expect(statuses, `${method} ${path}`).to.include('400');
        }
      }
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
    const spec = specWith(z.object({ custom }), z.object({}));
    expect(() => generateDocument(spec)).to.throw(/cannot be represented in OpenAPI/);
    expect(generateDocument({ ...spec, unrepresentable: new Map([[custom, { type: 'string' }]]) }).paths['/x']).to.have.nested.property(
      'post.requestBody.content.application/json.schema.properties.custom.type',
      'string',
    );
  });

  it('refuses an answer that transforms, which JSON Schema cannot express', () => {
    const millis = z.iso.datetime().transform((iso) => Date.parse(iso));
    expect(() => generateDocument(specWith(z.object({}), z.object({ at: millis })))).to.throw(/empty schema/);
    expect(generateDocument(specWith(z.object({ at: millis }), z.object({}))).paths['/x']).to.have.nested.property(
      'post.requestBody.content.application/json.schema.properties.at.format',
      'date-time',
    );
  });
});
