/** A provider's answer body as JSON, or undefined when it is not JSON (a proxy's HTML error page). */
export function jsonOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
