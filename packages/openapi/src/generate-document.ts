import type { z } from 'zod';
import { createDocument } from 'zod-openapi';
import type { ZodOpenApiComponentsObject, ZodOpenApiObject, ZodOpenApiOverrideContext } from 'zod-openapi';
import type { InfoObject, JsonSchema, OpenApiDocument, ServerObject } from './document.js';
import { forEachDocumentSchema, forEachSubschema } from './conformance/schema-locations.js';
import { deepFreeze } from './freeze.js';

/** A schema written once under `components.schemas`; every use of the same instance becomes a `$ref`. */
export interface NamedSchema {
  name: string;
  schema: z.ZodType;
  description?: string;
  /** Descriptions of its properties (the contracts keep theirs in doc comments, which JSON Schema cannot see). */
  fields?: Record<string, string>;
  /** Documented though no operation uses it (the Socket.IO payloads), from this side. */
  standalone?: 'input' | 'output';
}

/** An OpenAPI 3.1 document with zod schemas in place of JSON Schemas, as zod-openapi takes it, and the schemas to name. */
export interface DocumentSpec extends Omit<ZodOpenApiObject, 'openapi' | 'info' | 'servers' | 'components'> {
  info: InfoObject;
  servers: ServerObject[];
  components: Omit<ZodOpenApiComponentsObject, 'schemas'>;
  /** Written under `components.schemas` when the document uses them (or they are `standalone`). */
  schemas: readonly NamedSchema[];
  /** How to document schemas JSON Schema cannot express (zod custom checks), by instance; any other stops the generation. */
  unrepresentable?: ReadonlyMap<z.ZodType, JsonSchema>;
}

const COMPONENT_PREFIX = '#/components/schemas/';

/**
 * Generates an OpenAPI 3.1 document with zod-openapi, which writes every schema with zod's own
 * `z.toJSONSchema`: request schemas as zod parses them (`io: 'input'`), answers as the code
 * produces them (`io: 'output'`). Frozen: a document is built once and shared.
 */
export function generateDocument(spec: DocumentSpec): OpenApiDocument {
  const { schemas: named, unrepresentable = new Map(), components, ...document } = spec;
  const described = new Map<z.core.$ZodType, NamedSchema>();
  const schemas: Record<string, z.ZodType> = {};
  for (const component of named) {
    if (schemas[component.name] !== undefined) throw new Error(`two components are named ${component.name}`);
    // An unused component is written from its `unusedIO` side; the clone carries it, as no use needs the instance.
    const schema = component.standalone === undefined ? component.schema : component.schema.meta({ unusedIO: component.standalone });
    schemas[component.name] = schema;
    described.set(schema, component);
  }

  const generated = createDocument(
    { openapi: '3.1.0', ...document, components: { ...components, schemas } },
    {
      override: (context) => tidy(context, described, unrepresentable),
      // A transform has no JSON Schema on the answer side, and zod-openapi generates every named
      // schema on both sides: `EventInput`'s `createdAt` would stop it, though no answer holds an
      // event input. What the document keeps is checked below instead.
      allowEmptySchema: { pipe: { output: true } },
    },
  );
  const standalone = named.filter((component) => component.standalone !== undefined).map((component) => component.name);
  // zod-openapi's types leave every status and extension `any`; the spec validates the result against the OAS 3.1 schema.
  const result = withoutUnusedSchemas(generated as unknown as OpenApiDocument, standalone);
  refuseEmptySchemas(result);
  return deepFreeze(result);
}

/**
 * An empty schema accepts anything: zod wrote it for a transform on the answer side, `z.any()` or
 * `z.unknown()`. Only other properties of an open object (`z.looseObject`) may be anything.
 */
function refuseEmptySchemas(document: OpenApiDocument): void {
  const empty: string[] = [];
  forEachDocumentSchema(document, (schema, pointer) =>
    forEachSubschema(schema, pointer, (sub, at) => {
      if (Object.keys(sub).length === 0 && !at.endsWith('/additionalProperties')) empty.push(at);
    }),
  );
  if (empty.length > 0)
    throw new Error(`an empty schema (anything goes) at ${empty.join(', ')}: give the zod schema a JSON Schema (the spec's unrepresentable map)`);
}

/**
 * Tidies what zod emits into what a public API document should promise, and adds what the
 * contracts cannot say in JSON Schema:
 * - an object that is not `.strict()` says nothing about other properties: zod's output side
 *   writes `additionalProperties: false` (parsing strips them), but answers may gain fields;
 * - `format: date-time` stands for zod's long date-time pattern;
 * - the safe-integer bounds zod puts on every `.int()` are noise;
 * - the descriptions of named schemas and their fields, and of the unrepresentable schemas.
 */
function tidy(
  { zodSchema, jsonSchema }: ZodOpenApiOverrideContext,
  described: ReadonlyMap<z.core.$ZodType, NamedSchema>,
  unrepresentable: ReadonlyMap<z.core.$ZodType, JsonSchema>,
): void {
  // A `.refine()`d schema is a child of the one it refines: the nearest documented one wins.
  for (let schema: z.core.$ZodType | undefined = zodSchema; schema !== undefined; schema = schema._zod.parent) {
    const documented = unrepresentable.get(schema);
    if (documented !== undefined) {
      Object.assign(jsonSchema, structuredClone(documented));
      break;
    }
  }
  const def = zodSchema._zod.def;
  if (def.type === 'object' && def.catchall === undefined) delete jsonSchema.additionalProperties;
  if (jsonSchema.format === 'date-time') delete jsonSchema.pattern;
  if (jsonSchema.maximum === Number.MAX_SAFE_INTEGER) delete jsonSchema.maximum;
  if (jsonSchema.minimum === Number.MIN_SAFE_INTEGER) delete jsonSchema.minimum;

  const component = described.get(zodSchema);
  if (component?.description !== undefined) jsonSchema.description = component.description;
  for (const [field, description] of Object.entries(component?.fields ?? {})) {
    const property = jsonSchema.properties?.[field];
    if (property === undefined || typeof property === 'boolean') throw new Error(`${component?.name} has no property ${field} to describe`);
    property.description = description;
  }
}

/** Every string under the key `$ref` in a JSON value. */
function refsIn(value: unknown, into: Set<string>): Set<string> {
  if (Array.isArray(value)) {
    for (const item of value) refsIn(item, into);
  } else if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value)) {
      if (key === '$ref' && typeof item === 'string') into.add(item);
      else refsIn(item, into);
    }
  }
  return into;
}

/**
 * zod-openapi writes every named schema into every document: keeps those the document refers
 * to (and `keep`), in name order, so each app's document names only what its API uses.
 */
function withoutUnusedSchemas(document: OpenApiDocument, keep: readonly string[]): OpenApiDocument {
  // zod-openapi leaves out `components` when it has none.
  const { schemas = {}, ...otherComponents } = (document.components as Partial<OpenApiDocument['components']> | undefined) ?? {};
  const used = new Set(keep);
  const pending = [...keep];
  const visit = (refs: Set<string>) => {
    for (const ref of refs) {
      const name = ref.slice(COMPONENT_PREFIX.length);
      if (!ref.startsWith(COMPONENT_PREFIX) || used.has(name)) continue;
      used.add(name);
      pending.push(name);
    }
  };
  visit(refsIn({ ...document, components: otherComponents }, new Set()));
  for (let name = pending.pop(); name !== undefined; name = pending.pop()) visit(refsIn(schemas[name], new Set()));
  const kept = Object.entries(schemas)
    .filter(([name]) => used.has(name))
    .sort(([a], [b]) => a.localeCompare(b));
  return { ...document, components: { responses: {}, securitySchemes: {}, ...otherComponents, schemas: Object.fromEntries(kept) } };
}
