import { setVariables } from './config.js';
import { VARIABLES } from './variables.js';
import type { Masking, VariableGroup, VariableName } from './variables.js';

/** One variable as `herald config` shows it. */
export interface VariableListing {
  name: VariableName;
  group: VariableGroup;
  description: string;
  /** The value in effect, secrets masked; undefined when unset without a fixed default. */
  value: string | undefined;
  /** Where the value comes from: the environment, the variable's fixed default, or neither. */
  source: 'env' | 'default' | 'unset';
  /** The fixed default, or what applies when the variable is unset. */
  default: string | undefined;
  /** Why the value is refused, when it is. */
  problem: string | undefined;
}

const HIDDEN = '********';

/** A value as it may be printed: a secret hidden, service keys by name, a URL without its password. */
export function mask(value: string, masking: Masking | undefined): string {
  switch (masking) {
    case undefined:
      return value;
    case 'secret':
      return HIDDEN;
    case 'service-keys':
      return value
        .split(',')
        .map((pair) => pair.trim())
        .filter((pair) => pair.length > 0)
        .map((pair) => `${pair.slice(0, Math.max(pair.indexOf(':'), 0))}:${HIDDEN}`)
        .join(',');
    case 'url-password':
      return value.replace(/^([^:/?#]+:\/\/[^:@/?#]*:)[^@/?#]*@/, `$1${HIDDEN}@`);
  }
}

/**
 * Every variable the apps read, in the table's order, with its value in `env`, where that comes
 * from, its default, and what is wrong with it. Each variable is checked on its own; what involves
 * several (a push provider's settings, production's secrets) is `loadConfig`'s to say.
 */
export function listVariables(env: Readonly<Record<string, string | undefined>>): VariableListing[] {
  const set = setVariables(env);
  return VARIABLES.map((variable) => {
    const raw = set[variable.name];
    const result = variable.schema.safeParse(raw);
    const shown = raw ?? variable.default;
    return {
      name: variable.name,
      group: variable.group,
      description: variable.description,
      value: shown === undefined ? undefined : mask(shown, variable.masking),
      source: raw !== undefined ? 'env' : variable.default !== undefined ? 'default' : 'unset',
      default: variable.default ?? variable.whenUnset,
      problem: result.success ? undefined : result.error.issues.map((issue) => issue.message).join('; '),
    };
  });
}
