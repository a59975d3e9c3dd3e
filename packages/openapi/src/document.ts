import type { z } from 'zod';

/*
 * The parts of an OpenAPI 3.1 document Herald's documents hold, typed, as the conformance checks
 * and the tests read them. zod-openapi types what it takes and returns loosely (any status key is
 * `any`); the full object model is in the specification (https://spec.openapis.org/oas/v3.1.0).
 */

/** A Schema Object: in OpenAPI 3.1, a JSON Schema (draft 2020-12) document. */
export type JsonSchema = z.core.JSONSchema.BaseSchema;

export interface ReferenceObject {
  $ref: string;
}

export interface MediaTypeObject {
  schema: JsonSchema;
  example?: unknown;
}

export interface HeaderObject {
  description: string;
  /** Absent: optional. */
  required?: boolean;
  schema: JsonSchema;
}

export interface ResponseObject {
  description: string;
  headers?: Record<string, HeaderObject>;
  content?: Record<string, MediaTypeObject>;
}

export interface ParameterObject {
  name: string;
  in: 'path' | 'query' | 'header';
  /** Absent: optional (path parameters are always required). */
  required?: boolean;
  description?: string;
  schema: JsonSchema;
}

export interface RequestBodyObject {
  description?: string;
  required: boolean;
  content: Record<string, MediaTypeObject>;
}

/** A security requirement: scheme name → scopes (always none for bearer schemes). */
export type SecurityRequirement = Record<string, string[]>;

export interface OperationObject {
  operationId: string;
  summary: string;
  description?: string;
  tags: string[];
  security?: SecurityRequirement[];
  parameters?: ParameterObject[];
  requestBody?: RequestBodyObject;
  responses: Record<string, ResponseObject | ReferenceObject>;
}

export const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

export type PathItemObject = Partial<Record<HttpMethod, OperationObject>>;

export interface SecuritySchemeObject {
  type: 'http';
  scheme: 'bearer';
  bearerFormat?: string;
  description: string;
}

export interface TagObject {
  name: string;
  description: string;
}

// Type aliases, not interfaces: zod-openapi's objects take `x-` extensions, which only an alias's implicit index signature satisfies.
export type InfoObject = {
  title: string;
  version: string;
  description: string;
  license: { name: string; identifier: string };
};

export type ServerObject = {
  url: string;
  description: string;
};

/** An OpenAPI 3.1 document as Herald generates it. */
export interface OpenApiDocument {
  openapi: '3.1.0';
  info: InfoObject;
  servers: ServerObject[];
  tags: TagObject[];
  security: SecurityRequirement[];
  paths: Record<string, PathItemObject>;
  components: {
    schemas: Record<string, JsonSchema>;
    responses: Record<string, ResponseObject>;
    securitySchemes: Record<string, SecuritySchemeObject>;
  };
}
