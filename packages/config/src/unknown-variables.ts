import { OTHER_VARIABLES, OTHER_VARIABLE_PREFIXES, VARIABLES } from './variables.js';

const PREFIX = 'HERALD_';

/** Every variable name Herald knows: the apps', and the other HERALD_* ones (CLI, tests, benches). */
const KNOWN_NAMES: readonly string[] = [...VARIABLES.map((variable) => variable.name), ...Object.keys(OTHER_VARIABLES)];
const KNOWN = new Set(KNOWN_NAMES);

export interface UnknownVariable {
  name: string;
  /** The known variable closest to it, when one is close enough to be what was meant. */
  suggestion: string | undefined;
}

/**
 * Edits (insertion, deletion, substitution, swap of neighbours) that turn `a` into `b`: the
 * optimal string alignment distance, so a swapped pair of letters counts one.
 */
export function editDistance(a: string, b: string): number {
  // d[i * width + j]: the distance between a's first i characters and b's first j.
  const width = b.length + 1;
  const d = new Array<number>((a.length + 1) * width).fill(0);
  const at = (i: number, j: number): number => d[i * width + j] ?? 0;
  for (let i = 0; i <= a.length; i++) d[i * width] = i;
  for (let j = 0; j <= b.length; j++) d[j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const substitution = at(i - 1, j - 1) + (a[i - 1] === b[j - 1] ? 0 : 1);
      const swap = i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1] ? at(i - 2, j - 2) + 1 : Infinity;
      d[i * width + j] = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, substitution, swap);
    }
  }
  return at(a.length, b.length);
}

/**
 * The known variable closest to `name`. A name without HERALD_ (REDIS_URL, GATEWAY_PORT) is
 * also compared with `name` less its prefix: HERALD_GATEWAY_PORT means GATEWAY_PORT. Nothing
 * when even the closest is more edits away than a quarter of its length past HERALD_ (one at least).
 */
function closestKnown(name: string): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const known of KNOWN_NAMES) {
    const distance = known.startsWith(PREFIX) ? editDistance(name, known) : Math.min(editDistance(name, known), editDistance(name.slice(PREFIX.length), known));
    if (best === undefined || distance < best.distance) best = { name: known, distance };
  }
  if (best === undefined) return undefined;
  const length = best.name.startsWith(PREFIX) ? best.name.length - PREFIX.length : best.name.length;
  return best.distance <= Math.max(1, Math.floor(length / 4)) ? best.name : undefined;
}

/** The HERALD_* variables of `env` that nothing in Herald reads, each with the known name it is closest to. */
export function unknownVariables(env: Readonly<Record<string, string | undefined>>): UnknownVariable[] {
  return Object.keys(env)
    .filter((name) => name.startsWith(PREFIX) && !KNOWN.has(name) && !Object.keys(OTHER_VARIABLE_PREFIXES).some((prefix) => name.startsWith(prefix)))
    .sort()
    .map((name) => ({ name, suggestion: closestKnown(name) }));
}

/** One warning line about an unknown variable: `unknown variable HERALD_GATWAY_URL (ignored); did you mean HERALD_GATEWAY_URL?` */
export function describeUnknownVariable({ name, suggestion }: UnknownVariable): string {
  return suggestion === undefined
    ? `unknown variable ${name} (ignored); no Herald variable is close to it (\`herald config\` lists them)`
    : `unknown variable ${name} (ignored); did you mean ${suggestion}?`;
}
