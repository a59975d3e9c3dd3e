export { OPENAPI_PATH } from './common.js';
export { HTTP_METHODS } from './document.js';
export type {
  HeaderObject,
  HttpMethod,
  JsonSchema,
  MediaTypeObject,
  OpenApiDocument,
  OperationObject,
  ParameterObject,
  PathItemObject,
  ReferenceObject,
  RequestBodyObject,
  ResponseObject,
} from './document.js';
export { gatewayOpenApiDocument } from './gateway-document.js';
export { ingestOpenApiDocument } from './ingest-document.js';
export { openApiRoute } from './openapi-route.js';
