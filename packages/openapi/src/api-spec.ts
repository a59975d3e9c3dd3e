import type { z } from 'zod';
import type { HttpMethod, InfoObject, JsonSchema, SecuritySchemeObject, TagObject } from './document.js';

/*
 * What an API document says, with the zod schemas in place of JSON Schemas. The ingest and
 * gateway documents are written in these terms; `generateDocument` turns them into OpenAPI.
 */

/** Which side of a schema a use documents: what clients send (`input`) or what Herald answers (`output`). */
export type SchemaSide = 'input' | 'output';

export interface HeaderSpec {
  description: string;
  required: boolean;
  schema: z.ZodType;
}

export interface ResponseSpec {
  description: string;
  /** Shared responses (the errors) are written once under `components.responses` with this name. */
  component?: string;
  /** An `application/json` body. */
  json?: z.ZodType;
  /** A body of another media type (Prometheus text). */
  text?: { mediaType: string; schema: z.ZodType };
  headers?: Record<string, HeaderSpec>;
}

export interface OperationSpec {
  method: HttpMethod;
  /** OpenAPI path template: `/v1/accounts/{accountId}/devices`. */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tag: string;
  /** A security scheme name; `null` for an operation that needs no credential; absent: the document's default. */
  auth?: string | null;
  /** Path parameters, one per key. */
  params?: z.ZodObject;
  /** Query parameters, one per key. */
  query?: z.ZodObject;
  parameterDescriptions?: Record<string, string>;
  /** An `application/json` request body. */
  body?: { schema: z.ZodType; description: string; example?: unknown };
  responses: Record<number, ResponseSpec>;
}

/** A schema written once under `components.schemas`; every use of the same instance becomes a `$ref`. */
export interface NamedSchema {
  name: string;
  schema: z.ZodType;
  description?: string;
  /** Descriptions of its properties (the contracts keep theirs in doc comments, which JSON Schema cannot see). */
  fields?: Record<string, string>;
  /** Documented even when no operation uses it (the Socket.IO payloads), from this side. */
  standalone?: SchemaSide;
}

export interface ApiSpec {
  info: InfoObject;
  tags: TagObject[];
  securitySchemes: Record<string, SecuritySchemeObject>;
  /** The security scheme operations use unless they say otherwise. */
  defaultAuth: string;
  components: readonly NamedSchema[];
  /** How to document schemas JSON Schema cannot express (zod custom checks), by instance. */
  unrepresentable?: ReadonlyMap<z.ZodType, JsonSchema>;
  operations: readonly OperationSpec[];
}
