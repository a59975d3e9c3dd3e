/**
 * JSON text read back at a boundary (Redis, an HTTP answer), parsed for a zod check: malformed
 * text gives undefined, which the schema then refuses like any other wrong shape.
 */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
