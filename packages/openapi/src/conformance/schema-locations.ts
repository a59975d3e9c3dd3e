import type { JsonSchema } from '../document.js';

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

/** JSON Schema keywords whose value is a schema, a map of schemas, or a list of schemas. */
const SCHEMA_KEYWORDS = [
  'items',
  'additionalProperties',
  'unevaluatedProperties',
  'unevaluatedItems',
  'not',
  'if',
  'then',
  'else',
  'contains',
  'propertyNames',
] as const;
const SCHEMA_MAP_KEYWORDS = ['properties', 'patternProperties', '$defs', 'dependentSchemas'] as const;
const SCHEMA_LIST_KEYWORDS = ['prefixItems', 'allOf', 'anyOf', 'oneOf'] as const;

/** JSON Pointer escaping of one reference token. */
export const pointerToken = (token: string) => token.replaceAll('~', '~0').replaceAll('/', '~1');

/** Calls `visit` for a schema and every subschema in it, with its JSON Pointer. */
export function forEachSubschema(schema: unknown, pointer: string, visit: (schema: JsonSchema, pointer: string) => void): void {
  if (!isObject(schema)) return;
  visit(schema as JsonSchema, pointer);
  for (const keyword of SCHEMA_KEYWORDS) forEachSubschema(schema[keyword], `${pointer}/${keyword}`, visit);
  for (const keyword of SCHEMA_MAP_KEYWORDS) {
    const map = schema[keyword];
    if (!isObject(map)) continue;
    for (const [name, sub] of Object.entries(map)) forEachSubschema(sub, `${pointer}/${keyword}/${pointerToken(name)}`, visit);
  }
  for (const keyword of SCHEMA_LIST_KEYWORDS) {
    const list = schema[keyword];
    if (Array.isArray(list)) list.forEach((sub, i) => forEachSubschema(sub, `${pointer}/${keyword}/${i}`, visit));
  }
}

function forEachContentSchema(holder: unknown, pointer: string, visit: (schema: JsonSchema, pointer: string) => void): void {
  if (!isObject(holder)) return;
  for (const [mediaType, media] of Object.entries(isObject(holder['content']) ? holder['content'] : {})) {
    if (isObject(media) && isObject(media['schema'])) visit(media['schema'] as JsonSchema, `${pointer}/content/${pointerToken(mediaType)}/schema`);
  }
  for (const [name, header] of Object.entries(isObject(holder['headers']) ? holder['headers'] : {})) {
    if (isObject(header) && isObject(header['schema'])) visit(header['schema'] as JsonSchema, `${pointer}/headers/${pointerToken(name)}/schema`);
  }
}

/**
 * Calls `visit` for every top-level Schema Object of an OpenAPI document (component schemas,
 * parameters, request and response bodies, response headers) with its JSON Pointer.
 */
export function forEachDocumentSchema(document: unknown, visit: (schema: JsonSchema, pointer: string) => void): void {
  if (!isObject(document)) return;
  const components = isObject(document['components']) ? document['components'] : {};
  for (const [name, schema] of Object.entries(isObject(components['schemas']) ? components['schemas'] : {})) {
    if (isObject(schema)) visit(schema as JsonSchema, `/components/schemas/${pointerToken(name)}`);
  }
  for (const [name, response] of Object.entries(isObject(components['responses']) ? components['responses'] : {})) {
    forEachContentSchema(response, `/components/responses/${pointerToken(name)}`, visit);
  }
  for (const [path, item] of Object.entries(isObject(document['paths']) ? document['paths'] : {})) {
    if (!isObject(item)) continue;
    for (const [method, operation] of Object.entries(item)) {
      if (!isObject(operation)) continue;
      const at = `/paths/${pointerToken(path)}/${method}`;
      const parameters = Array.isArray(operation['parameters']) ? operation['parameters'] : [];
      parameters.forEach((parameter: unknown, i) => {
        if (isObject(parameter) && isObject(parameter['schema'])) visit(parameter['schema'] as JsonSchema, `${at}/parameters/${i}/schema`);
      });
      forEachContentSchema(operation['requestBody'], `${at}/requestBody`, visit);
      for (const [status, response] of Object.entries(isObject(operation['responses']) ? operation['responses'] : {})) {
        forEachContentSchema(response, `${at}/responses/${status}`, visit);
      }
    }
  }
}

/**
 * A copy of the document in which every object schema that says nothing about other properties
 * refuses them (`unevaluatedProperties: false`). The published document leaves answers free to
 * gain fields; the tests hold the code to exactly what is documented, so that a field added to
 * an answer without its schema fails.
 */
export function refuseUndocumentedProperties<T>(document: T): T {
  const copy = structuredClone(document);
  forEachDocumentSchema(copy, (schema) =>
    forEachSubschema(schema, '', (sub) => {
      if (sub.properties !== undefined && sub.additionalProperties === undefined && sub.unevaluatedProperties === undefined) {
        sub.unevaluatedProperties = false;
      }
    }),
  );
  return copy;
}
