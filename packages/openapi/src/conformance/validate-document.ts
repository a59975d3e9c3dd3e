import Ajv2020 from 'ajv/dist/2020.js';
import type { OpenApiDocument } from '../document.js';
import { describeErrors } from './ajv.js';
import oasSchema from './oas-3.1-schema-2022-10-07.json' with { type: 'json' };
import { ResponseConformance } from './response-conformance.js';
import { forEachDocumentSchema, forEachSubschema, pointerToken } from './schema-locations.js';

/**
 * Problems with an OpenAPI 3.1 document, none when it is valid:
 * - its structure, against the OpenAPI Initiative's JSON Schema for 3.1 documents
 *   (`oas-3.1-schema-2022-10-07.json`, https://spec.openapis.org/oas/3.1/schema/2022-10-07,
 *   Apache-2.0, kept here verbatim so that no test needs the network);
 * - every Schema Object, against the JSON Schema 2020-12 meta-schema (the OAS schema leaves them
 *   unchecked);
 * - every `$ref`, resolved, and every schema, compiled by a strict Ajv (unknown keywords fail).
 */
export function validateOpenApiDocument(document: unknown): string[] {
  const problems: string[] = [];
  // The OAS schema uses formats (uri, email, media-range) this check does not need to judge.
  const ajv = new Ajv2020.default({ allErrors: true, strict: false, validateFormats: false });
  const validate = ajv.compile(withStaticMetaRef(oasSchema) as object);
  if (!validate(document)) problems.push(...describeErrors(validate.errors).map((line) => `document ${line}`));

  forEachDocumentSchema(document, (schema, pointer) =>
    forEachSubschema(schema, pointer, (sub, at) => {
      if (!ajv.validateSchema(sub)) problems.push(...describeErrors(ajv.errors).map((line) => `schema ${at}: ${line}`));
      const ref = sub.$ref;
      if (ref !== undefined && !resolves(document, ref)) problems.push(`schema ${at}: $ref ${ref} does not resolve`);
    }),
  );
  for (const [path, item] of Object.entries((document as Partial<OpenApiDocument>).paths ?? {})) {
    for (const [method, operation] of Object.entries(item)) {
      for (const [status, response] of Object.entries(operation.responses)) {
        if ('$ref' in response && !resolves(document, response.$ref)) {
          problems.push(`response /paths/${pointerToken(path)}/${method}/responses/${status}: $ref ${response.$ref} does not resolve`);
        }
      }
    }
  }
  if (problems.length > 0) return problems;

  try {
    new ResponseConformance(document as OpenApiDocument);
  } catch (error) {
    problems.push(`schemas do not compile: ${(error as Error).message}`);
  }
  return problems;
}

/**
 * The OAS schema points at Schema Objects with `$dynamicRef: "#meta"`, a hook for the variant
 * that also validates schemas; here it can only land on its own `#/$defs/schema`, and Ajv's
 * `$dynamicRef` resolves it wrongly (every schema keyword then counts as unevaluated), so it is
 * swapped for the plain `$ref` it amounts to.
 */
function withStaticMetaRef(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(withStaticMetaRef);
  if (typeof schema !== 'object' || schema === null) return schema;
  return Object.fromEntries(
    Object.entries(schema).map(([key, value]) => (key === '$dynamicRef' && value === '#meta' ? ['$ref', '#/$defs/schema'] : [key, withStaticMetaRef(value)])),
  );
}

/** Whether a local `$ref` (`#/components/schemas/X`) points at something in the document. */
function resolves(document: unknown, ref: string): boolean {
  if (!ref.startsWith('#/')) return false;
  let node: unknown = document;
  for (const token of ref.slice(2).split('/')) {
    const key = decodeURIComponent(token).replaceAll('~1', '/').replaceAll('~0', '~');
    if (typeof node !== 'object' || node === null || !(key in node)) return false;
    node = (node as Record<string, unknown>)[key];
  }
  return true;
}
