import { Router } from 'express';
import { OPENAPI_PATH } from './common.js';
import type { OpenApiDocument } from './document.js';

/**
 * `GET /openapi.json`: the document, serialized once. No credential, and readable from any origin
 * so that browser-based OpenAPI viewers can load it: it holds no secret.
 */
export function openApiRoute(document: OpenApiDocument): Router {
  const body = JSON.stringify(document);
  const router = Router();
  router.get(OPENAPI_PATH, (_req, res) => {
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.type('application/json').send(body);
  });
  return router;
}
