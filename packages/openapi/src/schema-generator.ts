import { isDeepStrictEqual } from 'node:util';
import { z } from 'zod';
import type { NamedSchema, SchemaSide } from './api-spec.js';
import type { JsonSchema } from './document.js';

const COMPONENT_PREFIX = '#/components/schemas/';
/** Ids of schemas used in place; never a component name (those are PascalCase words). */
const INLINE_PREFIX = '~inline-';
const SIDES: readonly SchemaSide[] = ['input', 'output'];

const componentRef = (id: string) => `${COMPONENT_PREFIX}${id}`;

/** JSON Schema out of `z.toJSONSchema`, without its non-JSON extras (`~standard`). */
const plain = (value: unknown): JsonSchema => JSON.parse(JSON.stringify(value)) as JsonSchema;

/**
 * Tidies what zod emits into what a public API document should promise:
 * - an object that is not `.strict()` says nothing about other properties: zod's output side
 *   writes `additionalProperties: false` (parsing strips them), but answers may gain fields;
 * - `format: date-time` stands for zod's long date-time pattern;
 * - the safe-integer bounds zod puts on every `.int()` are noise.
 */
function tidy({ zodSchema, jsonSchema }: { zodSchema: z.core.$ZodTypes; jsonSchema: JsonSchema }): void {
  const def = zodSchema._zod.def;
  if (def.type === 'object' && def.catchall === undefined) delete jsonSchema.additionalProperties;
  if (jsonSchema.format === 'date-time') delete jsonSchema.pattern;
  if (jsonSchema.maximum === Number.MAX_SAFE_INTEGER) delete jsonSchema.maximum;
  if (jsonSchema.minimum === Number.MIN_SAFE_INTEGER) delete jsonSchema.minimum;
  // `.describe()` and `.meta()` descriptions live in zod's global registry, not in ours.
  const description: unknown = z.globalRegistry.get(zodSchema)?.description;
  if (typeof description === 'string' && jsonSchema.description === undefined) jsonSchema.description = description;
}

/** Marks what zod could not express, in place of a schema. */
const UNREPRESENTABLE = 'x-herald-unrepresentable';

/** Every string value of the key `key` under a JSON value. */
function keysIn(value: unknown, key: string, into = new Set<string>()): Set<string> {
  if (Array.isArray(value)) {
    for (const item of value) keysIn(item, key, into);
  } else if (typeof value === 'object' && value !== null) {
    for (const [name, item] of Object.entries(value)) {
      if (name === key && typeof item === 'string') into.add(item);
      else keysIn(item, key, into);
    }
  }
  return into;
}

/**
 * Turns zod schemas into the JSON Schemas of one OpenAPI document. `use` hands out a `$ref`
 * placeholder for each use; `generate` then runs `z.toJSONSchema` once per side over a registry
 * holding the named components and every schema used, so a named schema nested anywhere becomes
 * a `$ref` to its component, and `resolve` puts the generated schemas in place of the
 * placeholders.
 */
export class SchemaGenerator {
  private readonly names = new Map<z.ZodType, NamedSchema>();
  private readonly byName = new Map<string, NamedSchema>();
  private readonly inline: Record<SchemaSide, Map<z.ZodType, string>> = { input: new Map(), output: new Map() };
  private readonly namedUses: Record<SchemaSide, Set<string>> = { input: new Set(), output: new Set() };
  private inlineCount = 0;
  /** The generated schemas of the placeholders, once `generate` ran. */
  private generated: Map<string, JsonSchema> | undefined;

  /** How to document each unrepresentable schema, and the schemas it was derived from (`.refine()` keeps a parent zod walks too). */
  private readonly unrepresentable = new Map<z.core.$ZodType, JsonSchema>();

  constructor(components: readonly NamedSchema[], unrepresentable: ReadonlyMap<z.ZodType, JsonSchema> = new Map()) {
    for (const [schema, documented] of unrepresentable) {
      for (let s: z.core.$ZodType | undefined = schema; s !== undefined; s = s._zod.parent) this.unrepresentable.set(s, documented);
    }
    for (const component of components) {
      if (component.name.startsWith(INLINE_PREFIX)) throw new Error(`component name ${component.name} is reserved`);
      if (this.names.has(component.schema)) throw new Error(`schema named twice: ${component.name}`);
      if (this.byName.has(component.name)) throw new Error(`two components are named ${component.name}`);
      this.names.set(component.schema, component);
      this.byName.set(component.name, component);
      if (component.standalone !== undefined) this.namedUses[component.standalone].add(component.name);
    }
  }

  /** A placeholder for one use of a schema, from one side. */
  use(schema: z.ZodType, side: SchemaSide): JsonSchema {
    if (this.generated !== undefined) throw new Error('schemas were generated already');
    const named = this.names.get(schema);
    if (named !== undefined) {
      this.namedUses[side].add(named.name);
      return { $ref: componentRef(named.name) };
    }
    let id = this.inline[side].get(schema);
    if (id === undefined) {
      id = `${INLINE_PREFIX}${side}-${this.inlineCount++}`;
      this.inline[side].set(schema, id);
    }
    return { $ref: componentRef(id) };
  }

  /** Generates every schema used; returns the components the uses need. */
  generate(): Record<string, JsonSchema> {
    const inline = new Map<string, JsonSchema>();
    const components: Record<string, JsonSchema> = {};
    for (const side of SIDES) {
      const schemas = this.generateSide(side);
      for (const id of this.inline[side].values()) inline.set(id, schemas[id]!);
      // The components this side needs: those it names, and those they and its inline schemas refer to.
      const needed = new Set([...this.namedUses[side]]);
      const pending = [...needed, ...this.inline[side].values()];
      for (let id = pending.pop(); id !== undefined; id = pending.pop()) {
        for (const ref of keysIn(schemas[id], '$ref')) {
          const target = ref.slice(COMPONENT_PREFIX.length);
          if (!ref.startsWith(COMPONENT_PREFIX) || target.startsWith(INLINE_PREFIX) || needed.has(target)) continue;
          needed.add(target);
          pending.push(target);
        }
      }
      for (const id of [...needed, ...this.inline[side].values()]) {
        const marks = [...keysIn(schemas[id], UNREPRESENTABLE)];
        if (marks.length > 0) {
          throw new Error(`${id} (${side}): ${marks.join('; ')}; describe the schema in the spec's unrepresentable map`);
        }
      }
      for (const name of needed) {
        const schema = schemas[name]!;
        const existing = components[name];
        if (existing !== undefined && !isDeepStrictEqual(existing, schema)) {
          throw new Error(`component ${name} differs between requests and responses; name each side on its own`);
        }
        components[name] = schema;
      }
    }
    this.generated = inline;
    return Object.fromEntries(Object.entries(components).sort(([a], [b]) => a.localeCompare(b)));
  }

  /** A copy of `value` with every placeholder replaced by the schema it stands for. */
  resolve<T>(value: T): T {
    const generated = this.generated;
    if (generated === undefined) throw new Error('generate() first');
    const visit = (node: unknown): unknown => {
      if (Array.isArray(node)) return node.map(visit);
      if (typeof node !== 'object' || node === null) return node;
      const record = node as Record<string, unknown>;
      const ref = record['$ref'];
      if (typeof ref === 'string' && ref.startsWith(componentRef(INLINE_PREFIX))) {
        const { $ref: _ref, ...siblings } = record;
        const schema = generated.get(ref.slice(COMPONENT_PREFIX.length));
        if (schema === undefined) throw new Error(`no schema for ${ref}`);
        return visit({ ...structuredClone(schema), ...siblings });
      }
      return Object.fromEntries(Object.entries(record).map(([key, item]) => [key, visit(item)]));
    };
    return visit(value) as T;
  }

  private generateSide(side: SchemaSide): Record<string, JsonSchema> {
    const registry = z.registry<{ id: string }>();
    for (const [schema, { name }] of this.names) registry.add(schema, { id: name });
    for (const [schema, id] of this.inline[side]) registry.add(schema, { id });
    const { schemas } = z.toJSONSchema(registry, {
      target: 'draft-2020-12',
      io: side,
      uri: componentRef,
      cycles: 'ref',
      reused: 'inline',
      override: tidy,
      // Every named schema is generated on both sides, though most are used on one only (an
      // event's `createdAt` transform has no output side worth a schema): mark, and refuse only
      // what the document needs (`generate`).
      unrepresentable: ({ zodSchema, message }) => structuredClone(this.unrepresentable.get(zodSchema)) ?? { [UNREPRESENTABLE]: message },
    });
    const result: Record<string, JsonSchema> = {};
    for (const [id, generated] of Object.entries(schemas)) {
      const { $schema: _schema, $id: _id, ...schema } = plain(generated);
      const named = this.byName.get(id);
      result[id] = named === undefined ? schema : describe(schema, named);
    }
    return result;
  }
}

/** Adds a named component's description and its properties' descriptions. */
function describe(schema: JsonSchema, named: NamedSchema): JsonSchema {
  const described: JsonSchema = named.description === undefined ? schema : { description: named.description, ...schema };
  for (const [field, description] of Object.entries(named.fields ?? {})) {
    const property = described.properties?.[field];
    if (property === undefined || typeof property === 'boolean') throw new Error(`${named.name} has no property ${field} to describe`);
    property.description = description;
  }
  return described;
}
