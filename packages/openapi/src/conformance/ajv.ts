import Ajv2020 from 'ajv/dist/2020.js';
import type { ErrorObject } from 'ajv/dist/2020.js';
import { z } from 'zod';

export type Ajv = InstanceType<typeof Ajv2020.default>;

const dateTime = z.iso.datetime({ offset: true, local: false });

/** An Ajv for JSON Schema 2020-12 (the dialect of OpenAPI 3.1), strict about keywords, with the formats Herald uses. */
export function createAjv(): Ajv {
  return new Ajv2020.default({
    allErrors: true,
    strict: true,
    formats: { 'date-time': { type: 'string', validate: (value: string) => dateTime.safeParse(value).success } },
  });
}

/** Ajv's errors as `pointer: message` lines. */
export function describeErrors(errors: readonly ErrorObject[] | null | undefined): string[] {
  return (errors ?? []).map((error) => {
    const extra = error.keyword === 'unevaluatedProperties' || error.keyword === 'additionalProperties' ? ` (${JSON.stringify(error.params)})` : '';
    return `${error.instancePath || '(root)'} ${error.message ?? error.keyword}${extra}`;
  });
}
