import type { ValidateFunction } from 'ajv/dist/2020.js';
import type { HttpMethod, JsonSchema, OpenApiDocument, OperationObject, ParameterObject, ResponseObject } from '../document.js';
import { HTTP_METHODS } from '../document.js';
import { createAjv, describeErrors } from './ajv.js';
import type { Ajv } from './ajv.js';
import { pointerToken, refuseUndocumentedProperties } from './schema-locations.js';

/** A response as a client saw it. */
export interface ObservedResponse {
  method: string;
  /** The request path, without the query. */
  path: string;
  status: number;
  headers: { get(name: string): string | null };
  /** The body as received (JSON is parsed here). */
  body: string;
}

/** A request the server accepted: its documented schemas must accept it too. */
export interface ObservedRequest {
  method: string;
  /** Path and query: `/v1/notifications?limit=5`. */
  url: string;
  body?: unknown;
}

export class ConformanceError extends Error {
  override readonly name = 'ConformanceError';
}

/** Headers whose presence means something to clients: present but undocumented fails. */
const MEANINGFUL_HEADERS = ['Retry-After'];

const DOCUMENT_ID = 'https://herald.invalid/openapi.json';

interface PathTemplate {
  template: string;
  pattern: RegExp;
  params: string[];
}

function compileTemplate(template: string): PathTemplate {
  const params: string[] = [];
  const source = template
    .split(/(\{[^}]+\})/)
    .map((part) => {
      const param = /^\{([^}]+)\}$/.exec(part)?.[1];
      if (param === undefined) return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      params.push(param);
      return '([^/]+)';
    })
    .join('');
  return { template, pattern: new RegExp(`^${source}$`), params };
}

const mediaTypeOf = (contentType: string | null) => contentType?.split(';')[0]?.trim().toLowerCase();

/** A header or query value as the type its schema names (they travel as strings). */
function coerce(value: string, schema: JsonSchema): unknown {
  const type = schema.type;
  if ((type === 'integer' || type === 'number') && /^-?\d+(\.\d+)?$/.test(value)) return Number(value);
  return value;
}

/**
 * Checks real responses (and the requests that got them) against an OpenAPI document, with Ajv
 * (JSON Schema 2020-12, the document's own dialect), and keeps count of what was exercised.
 * An undocumented operation, status, media type or meaningful header fails, as does a body the
 * schema refuses; with `refuseUndocumentedProperties` (the default) so does an undocumented field.
 */
export class ResponseConformance {
  private readonly ajv: Ajv;
  private readonly templates: PathTemplate[];
  private readonly validators = new Map<string, ValidateFunction>();
  private readonly exercised = new Set<string>();

  constructor(
    private readonly document: OpenApiDocument,
    options: { refuseUndocumentedProperties?: boolean } = {},
  ) {
    this.ajv = createAjv();
    // Ajv compiles the root of a schema it resolves a `$ref` into: the document's own fields are
    // annotations to it (the Schema Objects inside are compiled, strictly, where referenced).
    for (const field of Object.keys(document)) this.ajv.addKeyword(field);
    const checked = options.refuseUndocumentedProperties === false ? structuredClone(document) : refuseUndocumentedProperties(document);
    this.ajv.addSchema(checked, DOCUMENT_ID);
    // Fewer parameters first: a literal segment wins over a template, as in routers.
    this.templates = Object.keys(document.paths)
      .map(compileTemplate)
      .sort((a, b) => a.params.length - b.params.length);
    // Compile every schema now, so a schema Ajv cannot use fails at once rather than on first use.
    for (const key of this.documentedResponses()) {
      const [upperMethod, template, status] = key.split(' ') as [string, string, string];
      const method = upperMethod.toLowerCase() as HttpMethod;
      const response = this.response(this.operation(template, method), status);
      for (const mediaType of Object.keys(response.content ?? {}))
        this.validator(this.responsePointer(template, method, status, ['content', mediaType, 'schema']));
    }
  }

  /** Every documented response, as `METHOD /path/{template} STATUS`. */
  documentedResponses(): string[] {
    const keys: string[] = [];
    for (const [template, item] of Object.entries(this.document.paths)) {
      for (const method of HTTP_METHODS) {
        for (const status of Object.keys(item[method]?.responses ?? {})) keys.push(`${method.toUpperCase()} ${template} ${status}`);
      }
    }
    return keys;
  }

  /** Documented responses no check has seen. */
  unexercised(): string[] {
    return this.documentedResponses().filter((key) => !this.exercised.has(key));
  }

  /** Documented paths no check has seen any response of. */
  unexercisedPaths(): string[] {
    const seen = new Set([...this.exercised].map((key) => key.split(' ')[1]));
    return Object.keys(this.document.paths).filter((template) => !seen.has(template));
  }

  /** Checks one response; throws a ConformanceError listing every mismatch. Returns `METHOD /template STATUS` and the parsed body. */
  check(response: ObservedResponse): { key: string; body: unknown } {
    const { template, method, operation } = this.find(response.method, response.path);
    const status = String(response.status);
    const key = `${method.toUpperCase()} ${template} ${status}`;
    const documented = operation.responses[status];
    if (documented === undefined) {
      throw new ConformanceError(
        `${key}: status ${status} is not documented (documented: ${Object.keys(operation.responses).join(', ')}); body: ${response.body.slice(0, 500)}`,
      );
    }
    const spec = this.response(operation, status);
    const problems: string[] = [];
    let body: unknown = response.body;

    const content = spec.content ?? {};
    const mediaType = mediaTypeOf(response.headers.get('content-type'));
    if (Object.keys(content).length === 0) {
      if (response.body.length > 0) problems.push(`the response documents no body, got ${response.body.length} bytes`);
    } else if (mediaType === undefined || content[mediaType] === undefined) {
      problems.push(`content-type ${mediaType ?? '(none)'} is not documented (documented: ${Object.keys(content).join(', ')})`);
    } else {
      if (mediaType === 'application/json') {
        try {
          body = JSON.parse(response.body);
        } catch {
          problems.push('the body is not JSON');
        }
      }
      const validate = this.validator(this.responsePointer(template, method, status, ['content', mediaType, 'schema']));
      if (!validate(body)) problems.push(...describeErrors(validate.errors).map((line) => `body ${line}`));
    }

    const headers = spec.headers ?? {};
    for (const [name, header] of Object.entries(headers)) {
      const value = response.headers.get(name);
      if (value === null) {
        if (header.required) problems.push(`header ${name} is required but missing`);
        continue;
      }
      const validate = this.validator(this.responsePointer(template, method, status, ['headers', name, 'schema']));
      if (!validate(coerce(value, header.schema))) problems.push(...describeErrors(validate.errors).map((line) => `header ${name}: ${value}: ${line}`));
    }
    for (const name of MEANINGFUL_HEADERS) {
      if (response.headers.get(name) !== null && !Object.keys(headers).some((documentedName) => documentedName.toLowerCase() === name.toLowerCase())) {
        problems.push(`header ${name} is sent but not documented`);
      }
    }

    if (problems.length > 0) throw new ConformanceError(`${key}:\n  ${problems.join('\n  ')}\n  body: ${response.body.slice(0, 1000)}`);
    this.exercised.add(key);
    return { key, body };
  }

  /** Checks that the documented parameters and request body accept a request the server accepted. */
  checkRequest(request: ObservedRequest): void {
    const url = new URL(request.url, 'http://herald.invalid');
    const { template, method, operation } = this.find(request.method, url.pathname);
    const problems: string[] = [];
    const parameters = operation.parameters ?? [];
    const pathValues = compileTemplate(template).pattern.exec(url.pathname)!.slice(1);
    const check = (parameter: ParameterObject, index: number, value: string) => {
      const validate = this.validator(`/paths/${pointerToken(template)}/${method}/parameters/${index}/schema`);
      if (!validate(coerce(value, this.resolveSchema(parameter.schema)))) {
        problems.push(...describeErrors(validate.errors).map((line) => `${parameter.in} parameter ${parameter.name}=${value}: ${line}`));
      }
    };
    const pathParams = compileTemplate(template).params;
    parameters.forEach((parameter, index) => {
      if (parameter.in === 'path') check(parameter, index, decodeURIComponent(pathValues[pathParams.indexOf(parameter.name)] ?? ''));
      if (parameter.in === 'query') {
        const value = url.searchParams.get(parameter.name);
        if (value === null) {
          if (parameter.required) problems.push(`query parameter ${parameter.name} is required`);
        } else check(parameter, index, value);
      }
    });
    for (const name of url.searchParams.keys()) {
      if (!parameters.some((p) => p.in === 'query' && p.name === name)) problems.push(`query parameter ${name} is not documented`);
    }
    const requestBody = operation.requestBody;
    if (requestBody === undefined) {
      if (request.body !== undefined) problems.push('the operation documents no request body');
    } else if (request.body === undefined) {
      if (requestBody.required) problems.push('the request body is required');
    } else {
      const validate = this.validator(`/paths/${pointerToken(template)}/${method}/requestBody/content/application~1json/schema`);
      if (!validate(request.body)) problems.push(...describeErrors(validate.errors).map((line) => `request body ${line}`));
    }
    if (problems.length > 0) throw new ConformanceError(`${method.toUpperCase()} ${template} request:\n  ${problems.join('\n  ')}`);
  }

  /** Checks a value against a component schema (the Socket.IO payloads have no operation to check them by). */
  checkSchema(name: string, value: unknown): void {
    if (this.document.components.schemas[name] === undefined) throw new ConformanceError(`no component schema ${name}`);
    const validate = this.validator(`/components/schemas/${pointerToken(name)}`);
    if (!validate(value)) throw new ConformanceError(`${name}:\n  ${describeErrors(validate.errors).join('\n  ')}\n  value: ${JSON.stringify(value)}`);
  }

  private find(rawMethod: string, path: string): { template: string; method: HttpMethod; operation: OperationObject } {
    const method = rawMethod.toLowerCase() as HttpMethod;
    for (const { template, pattern } of this.templates) {
      if (!pattern.test(path)) continue;
      const operation = this.document.paths[template]?.[method];
      if (operation !== undefined) return { template, method, operation };
    }
    throw new ConformanceError(`${rawMethod.toUpperCase()} ${path}: no such operation is documented`);
  }

  private operation(template: string, method: HttpMethod): OperationObject {
    const operation = this.document.paths[template]?.[method];
    if (operation === undefined) throw new ConformanceError(`${method} ${template} is not documented`);
    return operation;
  }

  /** The response object of a status, following a `$ref` into `components.responses`. */
  private response(operation: OperationObject, status: string): ResponseObject {
    const response = operation.responses[status];
    if (response === undefined) throw new ConformanceError(`status ${status} is not documented`);
    if (!('$ref' in response)) return response;
    const name = response.$ref.replace('#/components/responses/', '');
    const shared = this.document.components.responses[name];
    if (shared === undefined) throw new ConformanceError(`${response.$ref} does not resolve`);
    return shared;
  }

  private resolveSchema(schema: JsonSchema): JsonSchema {
    const ref = schema.$ref;
    if (ref === undefined || !ref.startsWith('#/components/schemas/')) return schema;
    return this.document.components.schemas[ref.slice('#/components/schemas/'.length)] ?? schema;
  }

  /** The JSON Pointer of a part of a response, whether written in place or shared under `components.responses`. */
  private responsePointer(template: string, method: HttpMethod, status: string, rest: string[]): string {
    const response = this.operation(template, method).responses[status];
    const base = response !== undefined && '$ref' in response ? response.$ref.slice(1) : `/paths/${pointerToken(template)}/${method}/responses/${status}`;
    return `${base}/${rest.map(pointerToken).join('/')}`;
  }

  private validator(pointer: string): ValidateFunction {
    let validate = this.validators.get(pointer);
    if (validate === undefined) {
      // A JSON Pointer in a URI fragment is percent-encoded (path templates hold `{` and `}`).
      validate = this.ajv.compile({ $ref: `${DOCUMENT_ID}#${pointer.split('/').map(encodeURIComponent).join('/')}` });
      this.validators.set(pointer, validate);
    }
    return validate;
  }
}
